/**
 * The user-data the region serves a Deploying machine's ephemeral environment through the curtin
 * metadata URL (reference maas-api.md 4.13): a shell script that writes the machine's installer
 * configuration (curtin-shaped JSON) and Kiln's installer (installer/kiln-install.py) into a
 * private directory and runs the installer. cloud-init executes it; its power_state reboots the
 * machine afterwards.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const INSTALLER_SCRIPT_PATH = join(__dirname, '..', 'installer', 'kiln-install.py');

/** The installer's text, read from the library's `installer/` folder. */
export function loadInstallerScript(path = INSTALLER_SCRIPT_PATH): string {
  return readFileSync(path, 'utf8');
}

/** The user-data script that runs `installer` with `config` (a JSON-serialisable document). */
export function renderInstallerUserData(config: unknown, installer: string): string {
  const json = JSON.stringify(config, null, 1);
  if (/^KILN_INSTALLER_EOF$/m.test(installer)) throw new Error('installer user-data: the installer contains its own heredoc delimiter');
  // JSON.stringify never yields a line that is exactly the delimiter (strings are quoted).
  return [
    '#!/bin/sh',
    "# Kiln installer user-data: writes the machine's installer configuration and Kiln's installer",
    '# into a private directory and runs it (python3, standard library only).',
    'set -eu',
    'umask 077',
    'dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-install.XXXXXX")',
    "cat > \"$dir/config.json\" <<'KILN_CONFIG_EOF'",
    json,
    'KILN_CONFIG_EOF',
    "cat > \"$dir/kiln-install.py\" <<'KILN_INSTALLER_EOF'",
    installer.endsWith('\n') ? installer.slice(0, -1) : installer,
    'KILN_INSTALLER_EOF',
    'exec python3 "$dir/kiln-install.py" "$dir/config.json"',
    '',
  ].join('\n');
}
