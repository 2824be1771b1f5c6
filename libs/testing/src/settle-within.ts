/**
 * What `work` settles to within `ms`, or `late` if it has not by then, to assert on a promise that
 * may never settle (a hang) without waiting for it. The timer is cleared either way, so nothing is
 * left to keep Jest running after the test.
 *
 * @example expect(await settleWithin(app.close().then(() => 'closed'), 5000, 'still closing')).toBe('closed');
 */
export async function settleWithin<T, L>(work: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
