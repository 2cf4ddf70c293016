/**
 * The user-data the region serves to a machine in the ephemeral environment (reference
 * maas-api.md §4.4): a MIME multipart message with one `text/x-shellscript` part,
 * `user_data.sh`, which unpacks Kiln's runner (runner/kiln-run-scripts.py) and the machine's
 * datasource config into a private temp dir and runs the runner. cloud-init executes it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const RUNNER_SCRIPT_PATH = join(__dirname, '..', 'runner', 'kiln-run-scripts.py');

/** The runner's text, read from the library's `runner/` folder. */
export function loadRunnerScript(path = RUNNER_SCRIPT_PATH): string {
  return readFileSync(path, 'utf8');
}

export type UserDataPhase = 'enlistment' | 'commissioning' | 'testing' | 'release' | 'deployment' | 'rescue';

export interface NodeCredentials {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
}

export interface UserDataInput {
  /** The metadata URL the machine reaches, e.g. `http://10.0.0.2:5248/MAAS/metadata/`. */
  metadataUrl: string;
  /** The machine's token; absent for an unknown machine (enlistment), which the runner registers. */
  credentials?: NodeCredentials;
  phase: UserDataPhase;
  /** The runner's text (`loadRunnerScript()`); injected so the renderer stays free of I/O. */
  runner: string;
  /** Seconds between WORKING heartbeats; MAAS's runner uses 120. */
  heartbeatIntervalSeconds?: number;
  /**
   * Start the SSH server (rescue mode, enable_ssh): the image has it but leaves it off; cloud-init
   * has put the owner's keys (meta-data public-keys) on the default user.
   */
  startSsh?: boolean;
}

const BOUNDARY = '===============kiln-user-data==';
const SAFE_VALUE = /^[A-Za-z0-9._~:/@%+-]*$/;

/** The shell script of the user-data (also what `renderUserData` wraps). */
export function renderUserDataScript(input: UserDataInput): string {
  const { metadataUrl, credentials, phase, runner } = input;
  const interval = input.heartbeatIntervalSeconds ?? 120;
  if ((phase === 'enlistment') !== (credentials === undefined)) {
    throw new Error('user-data: enlistment is exactly the phase without node credentials');
  }
  for (const [k, v] of Object.entries({ metadataUrl, ...credentials })) {
    if (!SAFE_VALUE.test(v)) throw new Error(`user-data: ${k} holds characters a URL or an OAuth key never has`);
  }
  if (!Number.isFinite(interval) || interval <= 0) throw new Error('user-data: heartbeat interval must be positive');
  if (/^KILN_RUNNER_EOF$/m.test(runner)) throw new Error('user-data: the runner text contains its own heredoc delimiter');
  const config = JSON.stringify({
    datasource: {
      MAAS: credentials
        ? { metadata_url: metadataUrl, consumer_key: credentials.consumerKey, token_key: credentials.tokenKey, token_secret: credentials.tokenSecret }
        : { metadata_url: metadataUrl },
    },
  });
  return [
    '#!/bin/sh',
    `# Kiln ephemeral user-data (${phase}): unpacks Kiln's script runner and the machine's`,
    '# datasource config into a private directory and runs the runner (python3, stdlib only).',
    'set -eu',
    'umask 077',
    'dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-user-data.XXXXXX")',
    "cat > \"$dir/config.json\" <<'KILN_CONFIG_EOF'",
    config,
    'KILN_CONFIG_EOF',
    "cat > \"$dir/kiln-run-scripts.py\" <<'KILN_RUNNER_EOF'",
    runner.endsWith('\n') ? runner.slice(0, -1) : runner,
    'KILN_RUNNER_EOF',
    ...(input.startSsh ? ['systemctl start ssh.service || echo "kiln: could not start the SSH server" >&2'] : []),
    `exec python3 "$dir/kiln-run-scripts.py" --config="$dir/config.json" --phase=${phase} --heartbeat-interval=${interval} "$dir/work"`,
    '',
  ].join('\n');
}

/** The MIME multipart user-data document (bytes as a string; ASCII only). */
export function renderUserData(input: UserDataInput): string {
  const script = Buffer.from(renderUserDataScript(input), 'utf8').toString('base64');
  const lines = script.match(/.{1,76}/g) ?? [];
  return [
    `Content-Type: multipart/mixed; boundary="${BOUNDARY}"`,
    'MIME-Version: 1.0',
    '',
    `--${BOUNDARY}`,
    'Content-Type: text/x-shellscript; charset="utf-8"',
    'MIME-Version: 1.0',
    'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="user_data.sh"',
    '',
    ...lines,
    '',
    `--${BOUNDARY}--`,
    '',
  ].join('\n');
}
