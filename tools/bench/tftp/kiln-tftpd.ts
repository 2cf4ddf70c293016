// Kiln's TFTP server as a standalone process for the benchmark (so its CPU can be read apart from
// the load generator's): node -r ./tools/register.js tools/bench/tftp/kiln-tftpd.ts ROOT PORT [LEVEL [WORKERS]]
import pino from 'pino';
import { InMemoryBootFiles } from '../../../apps/rack/src/tftp/boot-files.fake';
import { TftpServer } from '../../../apps/rack/src/tftp/tftp.server';
import { NO_TRANSFER_EVENTS } from '../../../apps/rack/src/tftp/transfer-events.port';

async function main(): Promise<void> {
  const [root, port, level = 'info', workers] = process.argv.slice(2);
  if (!root || !port) throw new Error('usage: kiln-tftpd.ts ROOT PORT [LEVEL]');
  const server = new TftpServer(
    { address: '127.0.0.1', port: Number(port), root, maxWindowsize: 64, ...(workers !== undefined ? { workers: Number(workers) } : {}) },
    { bootFiles: new InMemoryBootFiles(), events: NO_TRANSFER_EVENTS, log: pino({ level }) },
  );
  await server.listen();
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
