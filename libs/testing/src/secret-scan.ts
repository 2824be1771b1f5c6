/** What this process writes to stdout and stderr (the apps' JSON log lines) between the call and `stop()`. */
export interface CapturedOutput {
  /** Everything written so far, both streams in order. */
  readonly text: string;
  /** Restores the streams; what was captured stays readable. */
  stop(): void;
}

/**
 * Captures, without printing, what the apps in this process log (their `JsonLogger` writes to
 * `process.stdout` and `process.stderr`), so that a test can read every line an operator would.
 */
export function captureProcessOutput(): CapturedOutput {
  const chunks: string[] = [];
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }),
  );
  return {
    get text() {
      return chunks.join('');
    },
    stop() {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/**
 * Which secrets occur in which texts: one `"<text>: <secret>"` entry per find, [] when there is
 * none. A secret is also found as JSON writes it inside a string and as a URL writes it, the forms
 * it takes in a log line or a request target. Names only, so a failing test prints no secret.
 *
 * @example
 * expect(secretsFoundIn({ log: output.text, sentry: raw }, { password, refreshToken })).toEqual([]);
 */
export function secretsFoundIn(texts: Record<string, string>, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret === '') throw new Error(`secretsFoundIn: ${name} is empty, and would be found everywhere`);
      const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
      if ([...forms].some((form) => text.includes(form))) found.push(`${where}: ${name}`);
    }
  }
  return found;
}
