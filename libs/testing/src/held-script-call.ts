/** A Redis client whose chosen script calls wait at a gate; see {@link holdScriptCalls}. */
export interface HeldScriptCalls<C> {
  /** The client to hand to the code under test. */
  client: C;
  /** Settles when the first held call starts waiting. */
  reached: Promise<void>;
  /** Sends the held calls (and lets later ones through). */
  open: () => void;
}

/**
 * Wraps `client` so that every script call (EVALSHA) for which `holds(args)` is true waits until
 * `open()` before it is sent, which puts a race between two steps in the test's hands. `holds`
 * sees every script call, in order (e.g. `([sha]) => sha === SCRIPT.sha && ++n === 2`, or to
 * record what was sent); calls it does not hold go straight through.
 */
export function holdScriptCalls<C extends object>(client: C, holds: (args: readonly unknown[]) => boolean): HeldScriptCalls<C> {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let arrive!: () => void;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const held = new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      if (property !== 'evalsha') return method;
      return (...args: unknown[]) => {
        if (!holds(args)) return method(...args);
        arrive();
        return gate.then(() => method(...args));
      };
    },
  });
  return { client: held, reached, open };
}
