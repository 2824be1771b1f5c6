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
 * it takes in a log line or a request target, and base64 or base64url encoded (a Basic credential,
 * an encoded cookie or state), at any byte offset in what was encoded. Names only, so a failing
 * test prints no secret.
 *
 * @example
 * expect(secretsFoundIn({ log: output.text, sentry: raw }, { password, refreshToken })).toEqual([]);
 */
export function secretsFoundIn(texts: Record<string, string>, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const [name, secret] of Object.entries(secrets)) {
      if (secret === '') throw new Error(`secretsFoundIn: ${name} is empty, and would be found everywhere`);
      const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), ...base64Forms(secret)]);
      if ([...forms].some((form) => text.includes(form))) found.push(`${where}: ${name}`);
    }
  }
  return found;
}

/**
 * The characters every base64 and base64url encoding of `secret` holds, wherever it starts within the
 * encoded bytes: for each of the three offsets, the encoding less the characters that also depend on
 * the bytes around it (none for a secret too short to have such characters).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const forms: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    const stable = encoded.slice(offset === 0 ? 0 : 4, -4);
    if (stable.length < 8) continue;
    forms.push(stable, stable.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms;
}
