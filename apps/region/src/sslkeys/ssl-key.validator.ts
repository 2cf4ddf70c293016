import { X509Certificate } from 'node:crypto';

/**
 * Whether `pem` is one or more PEM X.509 certificates, as MAAS's SSLKeyForm requires (it loads the
 * key with OpenSSL's load_certificate). Pure.
 */
export function isPemCertificate(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}
