import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh self-signed certificate, made with the `openssl` CLI as a BMC makes its own at first
 * boot: P-256 key, valid two days, for `hosts` (IP addresses and DNS names).
 */
export async function selfSignedCert(hosts: string[] = ['127.0.0.1', 'localhost']): Promise<{ key: string; cert: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-redfish-tls-'));
  try {
    const san = hosts.map((h) => (/^[\d.]+$/.test(h) || h.includes(':') ? `IP:${h}` : `DNS:${h}`)).join(',');
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
          '-keyout', keyFile, '-out', certFile, '-days', '2',
          '-subj', '/CN=Kiln Redfish emulator BMC', '-addext', `subjectAltName=${san}`,
        ],
        { timeout: 20_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`openssl failed: ${stderr || err.message}`)) : resolve()),
      ),
    );
    return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
