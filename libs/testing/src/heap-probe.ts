import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collectGarbage: (() => void) | undefined;

/**
 * The heap this process still holds after a full collection: what is reachable, not what merely
 * awaits collection. For bounds of retained memory (what a buffer or cache keeps per entry), never
 * for timings.
 */
export function heapUsedAfterGc(): number {
  if (!collectGarbage) {
    // A context created after the flag is set has `gc`; jest's own context never does.
    setFlagsFromString('--expose-gc');
    collectGarbage = runInNewContext('gc') as () => void;
  }
  collectGarbage();
  return process.memoryUsage().heapUsed;
}
