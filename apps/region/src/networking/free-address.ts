/**
 * The lowest address of `usable` that no interval of `taken` covers, or null when every address is
 * taken. Intervals are inclusive and may overlap or come in any order; O(n log n) in their number,
 * independent of the size of the subnet (IPv6 /64s included).
 */
export function firstFreeAddress(usable: { first: bigint; last: bigint }, taken: ReadonlyArray<readonly [bigint, bigint]>): bigint | null {
  const sorted = [...taken].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let candidate = usable.first;
  for (const [start, end] of sorted) {
    if (candidate > usable.last) return null;
    if (end < candidate) continue;
    if (start > candidate) break;
    candidate = end + 1n;
  }
  return candidate <= usable.last ? candidate : null;
}
