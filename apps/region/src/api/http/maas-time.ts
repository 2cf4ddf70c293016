/**
 * Timestamp formats used in MAAS API responses (all UTC).
 */

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** Django's "N" date format (Associated Press month abbreviations). */
const DJANGO_N_MONTHS = ['Jan.', 'Feb.', 'March', 'April', 'May', 'June', 'July', 'Aug.', 'Sept.', 'Oct.', 'Nov.', 'Dec.'];

function checkedDate(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError('Invalid time value');
  return date;
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function clock(date: Date): string {
  return `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

/**
 * Event timestamps, Django format "D, d N Y H:i:s":
 * `Fri, 07 Dec. 2018 20:11:08`, `Thu, 03 May 2018 ...`, `Sat, 01 Sept. 2018 ...`.
 */
export function formatEventTime(date: Date): string {
  const d = checkedDate(date);
  return `${WEEKDAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${DJANGO_N_MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ${clock(d)}`;
}

/** Script results/history timestamps (Python `email.utils.formatdate`): `Thu, 06 Dec 2018 21:26:18 -0000`. */
export function formatRfc2822(date: Date): string {
  const d = checkedDate(date);
  return `${WEEKDAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ${clock(d)} -0000`;
}

/** HTTP `Date` header (RFC 1123): `Thu, 06 Dec 2018 21:26:18 GMT`. */
export function formatHttpDate(date: Date): string {
  return checkedDate(date).toUTCString();
}
