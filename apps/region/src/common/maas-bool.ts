const TRUE_WORDS = new Set(['true', '1', 'on', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'off', 'no']);

/**
 * MAAS boolean values: true/false, True/False (Python `str(bool)`), 1/0,
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
