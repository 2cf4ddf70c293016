import * as fs from 'node:fs';
import * as os from 'node:os';
import { warmUpDhcp } from './dhcp.warmup';

describe('warmUpDhcp', () => {
  it('runs synthetic exchanges through a scratch server and leaves nothing behind', async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('kiln-dhcp-warmup-'));
    let acks = -1;
    const ms = await warmUpDhcp(300, (s) => (acks = s.replies.ack));
    expect(ms).toBeGreaterThanOrEqual(0);
    // Every exchange, direct and relayed, took the full path to an ACK.
    expect(acks).toBe(300);
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('kiln-dhcp-warmup-'))).toEqual(before);
  });
});
