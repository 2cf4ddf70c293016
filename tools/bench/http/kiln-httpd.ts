// Kiln's HTTP boot server as a standalone process for the benchmark:
//   node -r ./tools/register.js tools/bench/http/kiln-httpd.ts ROOT PORT [LEVEL [CHUNK_BYTES]]
import pino from 'pino';
import { HttpBootServer } from '../../../apps/rack/src/http/http-boot.server';
import { InMemoryBootFiles } from '../../../apps/rack/src/tftp/boot-files.fake';
import { NO_TRANSFER_EVENTS } from '../../../apps/rack/src/tftp/transfer-events.port';

async function main(): Promise<void> {
  const [root, port, level = 'info', chunk] = process.argv.slice(2);
  if (!root || !port) throw new Error('usage: kiln-httpd.ts ROOT PORT [LEVEL [CHUNK_BYTES]]');
  const server = new HttpBootServer(
    { address: '127.0.0.1', port: Number(port), root, ...(chunk ? { readChunkSize: Number(chunk) } : {}) },
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
