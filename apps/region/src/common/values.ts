/** Parsers of the values MAAS's API takes as strings, for the services that validate them. */

const TRUE_WORDS = new Set(['true', '1', 'on', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'no']);

/**
 * MAAS boolean parameters: true/false, True/False (Python `str(bool)`), 1/0,
 * on/off, yes/no, case-insensitively and ignoring surrounding whitespace.
 * Anything else (including undefined and '') gives undefined.
 */
export function parseBool(value: string | undefined | null): boolean | undefined {
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}

/** '4096', '4G', '512M', '1.5T' -> bytes. `unit` is the unit of a bare number ('' = bytes). */
export function parseSize(value: string, unit: '' | 'M'): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?$/i.exec(value.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '': unit === 'M' ? 1024 ** 2 : 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  return Math.round(Number(m[1]) * mult[m[2].toUpperCase()]);
}

const SERIES_BY_VERSION: Record<string, string> = {
  '18.04': 'bionic',
  '20.04': 'focal',
  '22.04': 'jammy',
  '24.04': 'noble',
};

/** Debian's releases by version and by code name (a bare code name is Debian's, not Ubuntu's). */
const DEBIAN_SERIES: Record<string, string> = { '11': 'bullseye', '12': 'bookworm', '13': 'trixie', bullseye: 'bullseye', bookworm: 'bookworm', trixie: 'trixie' };

/**
 * 'jammy', '22.04', 'ubuntu/jammy', 'bookworm', 'debian/12' -> { osystem, series }; null when
 * malformed.
 */
export function parseSeries(value: string): { osystem: string; series: string } | null {
  const [os, rest] = value.includes('/') ? value.split('/', 2) : [DEBIAN_SERIES[value] && !/^\d+$/.test(value) ? 'debian' : 'ubuntu', value];
  if (!/^[a-z0-9-]+$/.test(os) || !rest || !/^[a-z0-9.-]+$/.test(rest)) return null;
  if (os === 'debian') return { osystem: os, series: DEBIAN_SERIES[rest] ?? rest };
  return { osystem: os, series: SERIES_BY_VERSION[rest] ?? rest };
}

/** MAAS decodes base64 user_data when it is valid base64, else keeps the bytes as sent. */
export function decodeMaybeBase64(v: string): Buffer {
  const compact = v.replace(/\s+/g, '');
  if (compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return Buffer.from(compact, 'base64');
  return Buffer.from(v, 'utf8');
}
