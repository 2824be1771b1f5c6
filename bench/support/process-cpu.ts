import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

import { Redis } from 'ioredis';

let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`; undefined where
 * there is no procfs. CPU time per request is a second view of a set-up's cost next to req/s: it
 * leaves out time spent waiting, though other load on a shared machine still moves it.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may contain spaces, hence the last ')'): utime is the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/**
 * CPU time in µs of a process's main thread (its event loop), from the scheduler's nanosecond
 * counter (`/proc/<pid>/task/<pid>/schedstat`), fine enough for a per-request figure where clock
 * ticks are not; NaN where there is no procfs.
 */
export function mainThreadCpuUs(pid = process.pid): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system) the redis-server at `url` has used, from `INFO cpu`. */
export async function redisCpuSeconds(url: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('cpu');
    const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
    return value('used_cpu_user') + value('used_cpu_sys');
  } finally {
    redis.disconnect();
  }
}
