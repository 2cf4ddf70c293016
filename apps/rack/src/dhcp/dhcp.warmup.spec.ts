import * as fs from 'node:fs';
import * as os from 'node:os';
import { warmUpDhcp } from './dhcp.warmup';

describe('warmUpDhcp', () => {
  it('runs synthetic exchanges through a scratch server and leaves nothing behind', async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('kiln-dhcp-warmup-'));
    const ms = await warmUpDhcp(300);
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('kiln-dhcp-warmup-'))).toEqual(before);
  });
});
