import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A self-signed certificate (for 127.0.0.1 and localhost by default), which is also the CA that tests trust. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The same certificate as `certFile`, as a CA to trust (a PEM string). */
  ca: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

/**
 * The `redis-server` arguments that serve TLS with `certificate` (clients need not present one; it
 * also signs and trusts the cluster bus and replication connections).
 */
export function redisTlsArgs(certificate: TestCertificate): string[] {
  const { certFile, keyFile } = certificate;
  return ['--tls-cert-file', certFile, '--tls-key-file', keyFile, '--tls-ca-cert-file', certFile, '--tls-auth-clients', 'no'];
}

/**
 * Makes a throw-away P-256 certificate with `openssl`, valid for two days, in a directory of its own.
 * `names` are its subject alternative names (`['DNS:localhost']` for a certificate that names a host only).
 */
export async function createTestCertificate(names: readonly string[] = ['IP:127.0.0.1', 'DNS:localhost']): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), 'test-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${names.join(',')}`,
    ]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    certFile,
    keyFile,
    ca: await readFile(certFile, 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
