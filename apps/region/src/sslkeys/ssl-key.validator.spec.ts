import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isPemCertificate } from './ssl-key.validator';

const CERT = readFileSync(join(__dirname, 'fixtures/test-cert.pem'), 'utf8');

describe('isPemCertificate', () => {
  it('accepts a PEM certificate, alone or in a chain', () => {
    expect(isPemCertificate(CERT)).toBe(true);
    expect(isPemCertificate(`${CERT}\n${CERT}`)).toBe(true);
  });

  it('refuses what is not a certificate', () => {
    expect(isPemCertificate('ssh-rsa AAAA key')).toBe(false);
    expect(isPemCertificate(CERT.replace(/[A-Za-z]{10}/, 'xxxxxxxxxx').replace('MII', '!!!'))).toBe(false);
    expect(isPemCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toBe(false);
  });
});
