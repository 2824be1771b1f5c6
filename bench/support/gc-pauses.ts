import type { ChildProcess } from 'node:child_process';
import { constants, PerformanceObserver } from 'node:perf_hooks';

/** Main-thread garbage-collection pauses of a process so far, in milliseconds. */
export interface GcPauses {
  /** Scavenges (young generation). */
  minorMs: number;
  /** Mark-compact and incremental marking steps (old generation). */
  majorMs: number;
}

const REQUEST = 'gc-pauses?';

/**
 * In a bench app started with an IPC channel: counts its GC pauses and sends them to the parent
 * whenever the parent asks ({@link readGcPauses}). GC is part of each request's CPU cost but
 * invisible in a profile's JS frames; objects that outlive their request by a scavenge or two (held
 * by a long-lived structure) show up here first, as longer scavenges and more mark-compacts.
 */
export function reportGcPauses(): void {
  if (!process.send) return;
  const pauses: GcPauses = { minorMs: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      // Node puts the GC kind in `detail`; the bundled PerformanceEntry type does not declare it.
      if ((entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.minorMs += entry.duration;
      else pauses.majorMs += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('message', (message) => {
    if (message === REQUEST) process.send?.({ gcPauses: pauses });
  });
  // The channel must not keep the app alive once the server has closed.
  process.channel?.unref();
}

/** In the bench: the GC pauses so far of a child that runs {@link reportGcPauses}; undefined if it does not answer. */
export function readGcPauses(child: ChildProcess): Promise<GcPauses | undefined> {
  if (!child.connected) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const done = (pauses: GcPauses | undefined) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(pauses);
    };
    const onMessage = (message: unknown) => {
      const pauses = (message as { gcPauses?: GcPauses } | null)?.gcPauses;
      if (pauses) done(pauses);
    };
    const timer = setTimeout(() => done(undefined), 1000);
    child.on('message', onMessage);
    child.send(REQUEST);
  });
}
