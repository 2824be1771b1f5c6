/**
 * Preloaded into the gateway (`NODE_OPTIONS=--require`, where `--cpu-prof` is not allowed): the
 * first SIGWINCH starts a V8 CPU profile, the second writes it to BENCH_CPU_PROFILE_FILE, so the
 * profile covers the load and not the start-up. SIGWINCH because Nest's shutdown hooks take
 * SIGUSR2, and its default action is to do nothing. The in-process inspector session answers synchronously.
 * BENCH_CPU_PROFILE_INTERVAL_US sets the sampling interval (V8's default, 1000 µs, when unset).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_CPU_PROFILE_FILE;
if (file) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROFILE_INTERVAL_US ?? 1000) });
  process.once('SIGWINCH', () => {
    session.post('Profiler.start');
    process.once('SIGWINCH', () => {
      session.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(file, JSON.stringify(result.profile));
      });
    });
  });
}
