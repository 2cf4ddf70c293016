/**
 * MAAS's DNS validation (models/domain.py, dnsresource.py, dnsdata.py), as pure functions: each
 * returns the message MAAS gives, or null when the value is valid.
 */

const LABEL = '[a-zA-Z0-9]([-a-zA-Z0-9]{0,62}[a-zA-Z0-9])?';
const NAMESPEC = new RegExp(`^(${LABEL}\\.)*${LABEL}\\.?$`);
const CNAME_LABEL = '[_a-zA-Z0-9]([-_a-zA-Z0-9]{0,62}[_a-zA-Z0-9])?';
const CNAME_SPEC = new RegExp(`^(${CNAME_LABEL}\\.)*${CNAME_LABEL}\\.?$`);
/** A resource name: one label, "@" for the domain itself, or underscore labels for SRV-style names. */
const RESOURCE_NAME = new RegExp(`^(@|${CNAME_LABEL}(\\.${CNAME_LABEL})*)$`);

export const SUPPORTED_RRTYPES = ['CNAME', 'MX', 'NS', 'SRV', 'SSHFP', 'TXT'] as const;
export const INVALID_CNAME_MSG = "Invalid CNAME: Should be '<server>'.";
export const INVALID_MX_MSG = "Invalid MX: Should be '<preference> <server>'. Range for preference is 0-65535.";
export const INVALID_SRV_MSG = "Invalid SRV: Should be '<priority> <weight> <port> <server>'. Range for priority, weight, and port are 0-65536.";
export const INVALID_SSHFP_MSG = "Invalid SSHFP: Should be '<algorithm> <fptype> <fingerprint>'.";
export const CNAME_AND_OTHER_MSG = 'CNAME records for a name cannot coexist with non-CNAME records.';
export const MULTI_CNAME_MSG = 'Only one CNAME can be associated with a name.';

export function domainNameError(value: string): string | null {
  if (value.length > 255) return 'Hostname is too long.  Maximum allowed is 255 characters.';
  return NAMESPEC.test(value) ? null : `Invalid domain name: ${value}.`;
}

export function resourceNameError(value: string): string | null {
  if (value.length > 191) return 'Ensure this value has at most 191 characters.';
  return RESOURCE_NAME.test(value) ? null : `Invalid dnsresource name: ${value}.`;
}

/** TTLs are positive integers (MAAS's PositiveIntegerField); empty means "inherit". */
export function ttlValue(raw: string | undefined): { ttl?: number | null; error?: string } {
  if (raw === undefined) return {};
  const t = raw.trim();
  if (t === '') return { ttl: null };
  if (!/^\d{1,10}$/.test(t) || Number(t) > 2147483647) return { error: 'Ensure this value is greater than or equal to 0.' };
  return { ttl: Number(t) };
}

const in16 = (n: string) => Number(n) >= 0 && Number(n) <= 65535;

/** The record's rrtype, upper-cased, or the error MAAS's validate_rrtype gives. */
export function rrtypeOf(raw: string): { rrtype?: string; error?: string } {
  const t = raw.trim().toUpperCase();
  if (!(SUPPORTED_RRTYPES as readonly string[]).includes(t)) return { error: `${t} is not one of ${SUPPORTED_RRTYPES.join(' ')}.` };
  return { rrtype: t };
}

/** DNSData.clean_rrdata: the right-hand side must match its type. */
export function rrdataError(rrtype: string, rrdata: string): string | null {
  switch (rrtype) {
    case 'CNAME':
      return CNAME_SPEC.test(rrdata) ? null : INVALID_CNAME_MSG;
    case 'SSHFP':
      return /^[0-9]+\s+[0-9]+\s+.*$/.test(rrdata) ? null : INVALID_SSHFP_MSG;
    case 'TXT':
      return null;
    case 'MX': {
      const m = /^([0-9]+)\s+(.+)$/.exec(rrdata);
      if (!m || !in16(m[1])) return INVALID_MX_MSG;
      return domainNameError(m[2]);
    }
    case 'NS':
      return domainNameError(rrdata);
    case 'SRV': {
      const m = /^([0-9]+)\s+([0-9]+)\s+([0-9]+)\s+(.*)$/.exec(rrdata);
      if (!m || !in16(m[1]) || !in16(m[2]) || !in16(m[3])) return INVALID_SRV_MSG;
      return m[4] === '.' ? null : domainNameError(m[4]);
    }
    default:
      return `${rrtype} is not one of ${SUPPORTED_RRTYPES.join(' ')}.`;
  }
}

/** DNSData.clean on create: a CNAME stands alone on its name. */
export function cnameConflict(rrtype: string, existing: { cnames: number; others: number }): string | null {
  if (rrtype === 'CNAME') {
    if (existing.others > 0) return CNAME_AND_OTHER_MSG;
    if (existing.cnames > 0) return MULTI_CNAME_MSG;
    return null;
  }
  return existing.cnames > 0 ? CNAME_AND_OTHER_MSG : null;
}

/**
 * MAAS's separate_fqdn: the name and the domain of an FQDN. A name that is itself a domain is that
 * domain's "@"; SRV names keep their leading underscore labels (_sip._tcp.host).
 */
export function separateFqdn(fqdn: string, rrtype: string | undefined, isDomain: (name: string) => boolean): { name: string; domain: string } {
  const f = fqdn.replace(/\.$/, '');
  if (isDomain(f)) return { name: '@', domain: f };
  const labels = f.split('.');
  let n = 0;
  if (rrtype === 'SRV') while (n < labels.length - 1 && labels[n].startsWith('_')) n++;
  if (n === 0) n = 1;
  return { name: labels.slice(0, n).join('.'), domain: labels.slice(n).join('.') };
}
