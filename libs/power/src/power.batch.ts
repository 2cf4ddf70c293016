/**
 * Plans the calls of a batch query (pure): which BMCs share one `queryMany`. BMCs share a call
 * when their query groups are equal (same power type, tool options and credentials); a call
 * holds at most `maxSize` BMCs and never two with one name (ipmipower prints a host without its
 * port, so 10.0.0.5:6230 and 10.0.0.5:6231 must go to different calls). Several machines
 * behind one BMC (the same `bmcKey` in one group) are asked once.
 */
export interface BatchEntry<T> {
  /** The query group key (QueryGroup.key, scoped by power type). */
  group: string;
  /** How the call's output names the BMC (QueryGroup.name). */
  name: string;
  /** The BMC (PreparedCommand.bmcKey): entries of one group and one BMC are asked once. */
  bmcKey: string;
  item: T;
}

/** One BMC of a planned call, with every entry that asked for it. */
export interface BatchMember<T> {
  name: string;
  bmcKey: string;
  items: T[];
}

export interface BatchCall<T> {
  group: string;
  members: BatchMember<T>[];
}

/**
 * Groups entries into calls of at most `maxSize` BMCs. A group of n BMCs is cut into
 * ceil(n / maxSize) calls of even size (200 BMCs with a maximum of 64: four calls of 50, rather
 * than 64, 64, 64 and 8), so that the calls of a round take about as long as each other; BMCs
 * whose names clash go to further calls. Groups keep the order in which they first appear, and
 * so do the BMCs within a call.
 */
export function planBatchCalls<T>(entries: readonly BatchEntry<T>[], maxSize: number): BatchCall<T>[] {
  if (!(maxSize >= 1)) throw new Error('a batch call holds at least one BMC');
  const groups = new Map<string, Map<string, BatchMember<T>>>();
  for (const e of entries) {
    let bmcs = groups.get(e.group);
    if (!bmcs) groups.set(e.group, (bmcs = new Map()));
    const m = bmcs.get(e.bmcKey);
    if (m) m.items.push(e.item);
    else bmcs.set(e.bmcKey, { name: e.name, bmcKey: e.bmcKey, items: [e.item] });
  }
  const calls: BatchCall<T>[] = [];
  for (const [group, bmcs] of groups) {
    // k calls whose sizes differ by one at most; calls that name clashes add hold up to maxSize.
    const k = Math.ceil(bmcs.size / maxSize);
    const capacity = (j: number) => (j < k ? Math.floor(bmcs.size / k) + (j < bmcs.size % k ? 1 : 0) : maxSize);
    const open: { call: BatchCall<T>; names: Set<string>; capacity: number }[] = [];
    let made = 0;
    for (const m of bmcs.values()) {
      const name = m.name.toLowerCase();
      let slot = open.find((o) => !o.names.has(name));
      if (!slot) {
        slot = { call: { group, members: [] }, names: new Set(), capacity: capacity(made++) };
        open.push(slot);
        calls.push(slot.call);
      }
      slot.call.members.push(m);
      slot.names.add(name);
      if (slot.call.members.length >= slot.capacity) open.splice(open.indexOf(slot), 1);
    }
  }
  return calls;
}
