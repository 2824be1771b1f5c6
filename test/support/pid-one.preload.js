// Preloaded (`NODE_OPTIONS=--require …`) into an app process to make it behave as PID 1 of a
// container (`exec node …` in the image): the kernel ignores a signal sent to PID 1 for which the
// process has no handler, so the SIGTERM Nest sends itself again after its shutdown hooks does not
// end the process; it ends only once nothing holds its event loop, or at the orchestrator's SIGKILL.
'use strict';
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => undefined);
