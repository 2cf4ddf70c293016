/**
 * Whether a script's `for_hardware` list matches a machine, as MAAS decides when it adds such a
 * script to a run (metadataserver/models/scriptset.py `_find_scripts`, hooks.py
 * `filter_modaliases`). Pure. An entry matches when it is
 * - `<key>:<value>` for one of the machine's system_*, mainboard_*, firmware_* or chassis_*
 *   hardware_info values, exactly (`system_vendor:Dell Inc.`);
 * - `modalias:<glob>` matching one of its modaliases (shell-style `*`, `?`, `[...]`);
 * - `pci:<vendor>:<device>` or `usb:<vendor>:<product>` (hex ids, globs allowed), matched against
 *   the PCI/USB modaliases.
 */

export interface HardwareFacts {
  /** What `maas-list-modaliases` reported. */
  modaliases: readonly string[];
  /** MAAS hardware_info keys and values commissioning found. */
  hardwareInfo: Readonly<Record<string, string>>;
}

const PAIR_PREFIXES = ['system_', 'mainboard_', 'firmware_', 'chassis_'];

/** fnmatch's translation of a shell glob to a whole-string regular expression. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', glob[i + 1] === '!' || glob[i + 1] === ']' ? i + 2 : i + 1);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        else if (body.startsWith('^')) body = `\\${body}`;
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/** The modalias globs a `for_hardware` list stands for (malformed pci:/usb: entries are ignored, as in MAAS). */
export function modaliasPatterns(forHardware: readonly string[]): string[] {
  const patterns: string[] = [];
  for (const entry of forHardware) {
    const [kind, ...rest] = entry.split(':');
    if (kind === 'modalias' && rest.length) patterns.push(rest.join(':'));
    else if ((kind === 'pci' || kind === 'usb') && rest.length === 2) {
      const [vendor, device] = rest.map((s) => s.toUpperCase());
      patterns.push(kind === 'pci' ? `pci:v0000${vendor}d0000${device}sv*sd*bc*sc*i*` : `usb:v${vendor}p${device}d*dc*dsc*dp*ic*isc*ip*`);
    }
  }
  return patterns;
}

export function forHardwareMatches(forHardware: readonly string[], facts: HardwareFacts): boolean {
  const pairs = new Set(
    Object.entries(facts.hardwareInfo)
      .filter(([k]) => PAIR_PREFIXES.some((p) => k.startsWith(p)))
      .map(([k, v]) => `${k}:${v}`),
  );
  if (forHardware.some((entry) => pairs.has(entry))) return true;
  const patterns = modaliasPatterns(forHardware).map(globToRegExp);
  return facts.modaliases.some((m) => patterns.some((p) => p.test(m)));
}
