/**
 * Preloaded into an app under benchmark (`NODE_OPTIONS=--require`): counts the Redis round trips
 * the process makes and serves them, with its CPU time, on BENCH_PROBE_PORT (GET / → JSON).
 *
 * A round trip is a busy period of the process's Redis traffic: it starts when a command is sent
 * while no other is awaiting its reply, and every command sent before all replies are back joins
 * it. Commands sent together (a pipeline, or calls made in the same tick) are one round trip; a
 * command that waits for another's reply starts the next. With one request at a time this is the
 * number of Redis waits on the request's critical path. Each round trip is also recorded by what it
 * carried (EVALSHA by script SHA, other commands by name), so the bench can name them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import { Redis } from 'ioredis';

import { mainThreadCpuUs } from './process-cpu';

interface SentCommand {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
}

const port = Number(process.env.BENCH_PROBE_PORT);
if (port > 0) {
  let inFlight = 0;
  let roundTrips = 0;
  let commands = 0;
  let current: string[] | undefined;
  /** What each round trip carried ("<sha>+<sha>", sorted) → how many round trips carried it. */
  const carried = new Map<string, number>();

  const prototype = Redis.prototype as unknown as { sendCommand(command: SentCommand, stream?: unknown): unknown };
  // eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped below and called with its receiver
  const send = prototype.sendCommand;
  prototype.sendCommand = function (this: unknown, command: SentCommand, stream?: unknown) {
    if (inFlight === 0) {
      roundTrips++;
      current = [];
    }
    const trip = current as string[];
    trip.push(command.name === 'evalsha' ? String(command.args[0]) : command.name);
    inFlight++;
    commands++;
    const settled = () => {
      inFlight--;
      if (inFlight === 0) {
        const key = [...trip].sort().join('+');
        carried.set(key, (carried.get(key) ?? 0) + 1);
      }
    };
    command.promise.then(settled, settled);
    return send.call(this, command, stream);
  };

  createServer((_req, res) => {
    const cpu = process.cpuUsage();
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        roundTrips,
        commands,
        carried: Object.fromEntries(carried),
        cpuUs: cpu.user + cpu.system,
        systemUs: cpu.system,
        threads: threadCpuTicks(),
        mainThreadCpuUs: mainThreadCpuUs(),
      }),
    );
  })
    .listen(port, '127.0.0.1')
    .unref();
}

/** CPU clock ticks (user + system) of the main thread and of all other threads (libuv pool: argon2; GC), from /proc/self/task. */
function threadCpuTicks(): Record<string, number> {
  const ticks: Record<string, number> = { main: 0, other: 0 };
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks[Number(tid) === process.pid ? 'main' : 'other'] += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    // No procfs: the totals from process.cpuUsage still hold.
  }
  return ticks;
}
