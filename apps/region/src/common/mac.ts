/**
 * MAC address normalisation, for API parameters (`mac_addresses`, `mac_address`, ...) and the services that take MACs.
 */

const COLON_OR_DASH = /^([0-9a-f]{1,2})([:-])([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})\2([0-9a-f]{1,2})$/i;
const DOTTED = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;
const BARE = /^[0-9a-f]{12}$/i;

/**
 * Normalise a MAC address to lower-case colon form (`aa:bb:cc:dd:ee:ff`).
 * Accepts `aa:bb:cc:dd:ee:ff` and `aa-bb-cc-dd-ee-ff` (one separator style;
 * single-digit groups are zero-padded), Cisco `aabb.ccdd.eeff` and bare
 * `aabbccddeeff`, in any case, with surrounding whitespace. Anything else
 * (including non-strings) gives null.
 */
export function normalizeMac(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const text = input.trim();
  let hex: string;
  const separated = COLON_OR_DASH.exec(text);
  if (separated) {
    hex = [1, 3, 4, 5, 6, 7].map((group) => separated[group].padStart(2, '0')).join('');
  } else {
    const dotted = DOTTED.exec(text);
    if (dotted) hex = dotted[1] + dotted[2] + dotted[3];
    else if (BARE.test(text)) hex = text;
    else return null;
  }
  hex = hex.toLowerCase();
  return hex.match(/../g)!.join(':');
}
