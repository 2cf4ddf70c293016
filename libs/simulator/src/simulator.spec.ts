import { gzipSync } from 'node:zlib';
import { buildScriptsTarball } from '@kiln/scripts';
import { readPreseed } from './cloud-config.reader';
import { cpuCount, simulatedMachine } from './machine.profile';
import { multipartBody } from './multipart.body';
import { oauthHeader, oauthQuote } from './oauth.signer';
import { machineResources, scriptOutput } from './script-output.generator';
import { percentile } from './simulation';
import { readTar } from './tar.reader';

describe('simulated machines', () => {
  it('are the same for the same seed and index, and vary across a fleet', () => {
    expect(simulatedMachine(9, 4)).toEqual(simulatedMachine(9, 4));
    const fleet = Array.from({ length: 200 }, (_, i) => simulatedMachine(9, i));
    const macs = fleet.flatMap((m) => m.nics.map((n) => n.mac));
    expect(new Set(macs).size).toBe(macs.length);
    expect(macs.every((m) => /^0a(:[0-9a-f]{2}){5}$/.test(m))).toBe(true);
    expect(new Set(fleet.map(cpuCount)).size).toBeGreaterThan(3);
    expect(new Set(fleet.map((m) => m.memory)).size).toBeGreaterThan(3);
    expect(new Set(fleet.map((m) => m.disks.length)).size).toBeGreaterThan(2);
    expect(new Set(fleet.map((m) => m.nics.length)).size).toBeGreaterThan(1);
    // Another fleet never shares a MAC with this one.
    expect(simulatedMachine(10, 4).nics[0].mac).not.toBe(simulatedMachine(9, 4).nics[0].mac);
  });

  it('print the machine-resources document of 50-maas-01-commissioning, consistent with the machine', () => {
    const m = simulatedMachine(3, 17);
    const doc = JSON.parse(scriptOutput(m, '50-maas-01-commissioning').stdout) as ReturnType<typeof machineResources> & {
      resources: { cpu: { total: number; sockets: { cores: { threads: { id: number }[] }[] }[] }; memory: { total: number }; storage: { disks: { id: string; serial: string; size: number }[] }; network: { cards: { ports: { address: string }[] }[] }; numa_nodes: { cpus: number[] }[] };
      networks: Record<string, { hwaddr: string }>;
    };
    expect(doc.resources.cpu.total).toBe(cpuCount(m));
    const threadIds = doc.resources.cpu.sockets.flatMap((s) => s.cores.flatMap((c) => c.threads.map((t) => t.id)));
    expect(new Set(threadIds).size).toBe(cpuCount(m));
    expect(doc.resources.numa_nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual([...threadIds].sort((a, b) => a - b));
    expect(doc.resources.memory.total).toBe(m.memory);
    expect(doc.resources.storage.disks.map((d) => [d.id, d.serial, d.size])).toEqual(m.disks.map((d) => [d.name, d.serial, d.size]));
    expect(doc.resources.network.cards.flatMap((c) => c.ports.map((p) => p.address))).toEqual(m.nics.map((n) => n.mac));
    expect(Object.values(doc.networks).map((n) => n.hwaddr)).toEqual(['00:00:00:00:00:00', ...m.nics.map((n) => n.mac)]);
    expect(scriptOutput(m, 'maas-kernel-cmdline').stdout).toContain(`BOOTIF=01-${m.nics[0].mac.replace(/:/g, '-')}`);
    expect(scriptOutput(m, 'maas-lshw').stdout).toContain(`<serial>${m.disks[0].serial}</serial>`);
  });
});

describe('the wire formats', () => {
  it('percent-encodes as Python quote(safe="~") and signs PLAINTEXT', () => {
    expect(oauthQuote("a b&c=d/~!*'()")).toBe('a%20b%26c%3Dd%2F~%21%2A%27%28%29');
    expect(oauthHeader({ consumerKey: 'ck', tokenKey: 'tk', tokenSecret: 's/t' }, { nowSeconds: 1700000000.7, nonce: '42' })).toBe(
      'OAuth oauth_nonce="42", oauth_timestamp="1700000000", oauth_version="1.0", oauth_signature_method="PLAINTEXT", oauth_consumer_key="ck", oauth_token="tk", oauth_signature="%26s%252Ft"',
    );
  });

  it('lays multipart fields before files, each file with its name as filename', () => {
    const { body, contentType } = multipartBody([['op', 'signal']], [['x.out', Buffer.from('hi')]], 'B');
    expect(contentType).toBe('multipart/form-data; boundary=B');
    expect(body.toString()).toBe(
      '--B\r\nContent-Disposition: form-data; name="op"\r\n\r\nsignal\r\n--B\r\nContent-Disposition: form-data; name="x.out"; filename="x.out"\r\nContent-Type: application/octet-stream\r\n\r\nhi\r\n--B--\r\n',
    );
  });

  it('reads the maas-scripts tar, plain or gzip-compressed, long paths included', () => {
    const long = `s-${'x'.repeat(120)}`;
    const tar = buildScriptsTarball([{ scriptType: 'testing', name: long, content: '#!/bin/sh\n', scriptResultId: 5, timeoutSeconds: 0, parallel: 'disabled', hardwareType: 'node' }]);
    for (const t of [tar, gzipSync(tar)]) {
      const files = readTar(t);
      const index = JSON.parse(files.get('index.json')!.toString()) as { '1.0': { testing_scripts: { name: string; path: string }[] } };
      expect(index['1.0'].testing_scripts[0]).toMatchObject({ name: long, path: `testing/${long}` });
      expect(files.get(`testing/${long}`)?.toString()).toBe('#!/bin/sh\n');
    }
  });

  it('takes the node credentials and power_state from a preseed', () => {
    const p = readPreseed('#cloud-config\ndatasource:\n  MAAS:\n    metadata_url: http://r:5248/MAAS/metadata/\n    consumer_key: ck\n    token_key: tk\n    token_secret: ts\npower_state: {mode: poweroff, delay: now}\n');
    expect(p).toEqual({ metadataUrl: 'http://r:5248/MAAS/metadata/', credentials: { consumerKey: 'ck', tokenKey: 'tk', tokenSecret: 'ts', consumerSecret: '' }, powerState: 'poweroff' });
    expect(readPreseed('#cloud-config\ndatasource: {MAAS: {metadata_url: "http://r/"}}\n')).toMatchObject({ credentials: null, powerState: null });
    expect(() => readPreseed('[')).toThrow('not YAML');
  });

  it('percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 99), percentile([], 50)]).toEqual([50, 99, 0]);
  });
});
