import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from '../../test/support';

export interface NginxProxy {
  url: string;
  /** The master and its worker, for CPU accounting. */
  pids(): number[];
  stop(): Promise<void>;
}

/** The version of the nginx on PATH, or undefined (`apt-get install nginx-light` installs one). */
export function nginxVersion(): string | undefined {
  const run = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return run.error ? undefined : (/nginx\/(\S+)/.exec(run.stderr)?.[1] ?? 'unknown');
}

/**
 * nginx in front of `target` on a free port, one worker, a keep-alive upstream pool (the usual
 * production set-up): `/api/` stripped, HTTP/1.1 upstream with the Connection field cleared.
 */
export async function startNginxProxy(target: URL): Promise<NginxProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  keepalive_timeout 65s;
  keepalive_requests 100000;
  upstream service { server ${target.host}; keepalive 64; keepalive_requests 100000; keepalive_timeout 30s; }
  server {
    listen 127.0.0.1:${port};
    location /api/ {
      proxy_pass http://service/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host ${target.host};
      proxy_set_header X-Forwarded-For $remote_addr;
    }
  }
}
`,
  );
  const child: ChildProcess = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const up = await fetch(`${url}/api/health`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pids: () => {
      try {
        const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8');
        return [child.pid ?? -1, ...children.trim().split(/\s+/).filter(Boolean).map(Number)];
      } catch {
        return [child.pid ?? -1];
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGQUIT');
      }),
  };
}
