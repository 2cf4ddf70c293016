/**
 * Runs the Redfish BMC emulator on its own, e.g. to try a driver or `redfishtool` by hand:
 *
 *   node -r ./tools/register.js tools/redfish-emulator/main.ts [--port 8443] [--host 127.0.0.1]
 *        [--user admin --password password] [--systems 1,2] [--transition-ms 500]
 *
 * Prints the URL, then serves until SIGINT/SIGTERM.
 */
import { RedfishEmulator } from './redfish.emulator';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const emu = new RedfishEmulator({
    port: Number(arg('port', '0')),
    host: arg('host', '127.0.0.1'),
    users: { [arg('user', 'admin')]: arg('password', 'password') },
    systems: arg('systems', '1').split(',').filter(Boolean),
    transitionMs: Number(arg('transition-ms', '0')),
  });
  const url = await emu.start();
  process.stdout.write(`${url}\n`);
  const stop = () => {
    void emu.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
