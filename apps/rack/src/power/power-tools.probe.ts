import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * The programs each power driver runs on the rack. ipmi runs freeipmi's ipmipower by default
 * (ipmitool for some BMCs); virsh runs libvirt's client. redfish, webhook and manual need none.
 */
export const POWER_TOOLS: Readonly<Record<string, readonly { program: string; pkg: string }[]>> = {
  ipmi: [{ program: 'ipmipower', pkg: 'freeipmi-tools' }],
  virsh: [{ program: 'virsh', pkg: 'libvirt-clients' }],
};

function onPath(program: string, path: string): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, program);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Power types this rack cannot drive, with why: what it reports to the region when it registers. */
export function probePowerTools(path = process.env.PATH ?? ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [powerType, tools] of Object.entries(POWER_TOOLS)) {
    const missing = tools.filter((t) => !onPath(t.program, path));
    if (missing.length) {
      out[powerType] = missing.map((t) => `${t.program} is not installed on this rack (package ${t.pkg})`).join('; ');
    }
  }
  return out;
}
