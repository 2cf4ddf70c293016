import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { NodeStatus } from '@kiln/lifecycle';
import { powerStateFor, renderEnlistPreseed, renderNodePreseed, renderVendorData } from './preseed.renderer';

const creds = { consumerKey: 'ck', tokenKey: 'tk', tokenSecret: 'ts' };

describe('preseeds', () => {
  it('gives a known machine its credentials, the status webhook and power_state', () => {
    const text = renderNodePreseed({ origin: 'http://10.0.0.2:5248', systemId: 'abc123', status: NodeStatus.COMMISSIONING, credentials: creds, enableSsh: false });
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(text)).toEqual({
      datasource: { MAAS: { metadata_url: 'http://10.0.0.2:5248/MAAS/metadata/', consumer_key: 'ck', token_key: 'tk', token_secret: 'ts' } },
      reporting: {
        maas: { type: 'webhook', endpoint: 'http://10.0.0.2:5248/MAAS/metadata/status/abc123', consumer_key: 'ck', token_key: 'tk', token_secret: 'ts' },
      },
      manage_etc_hosts: true,
      power_state: { delay: 'now', mode: 'poweroff', timeout: 3600, condition: 'test ! -e /tmp/block-poweroff' },
    });
  });

  it('keeps the machine up for SSH and rescue mode, reboots a deploying one, waits a week for disk erasing', () => {
    expect(powerStateFor(NodeStatus.COMMISSIONING, true)).toBeNull();
    expect(powerStateFor(NodeStatus.TESTING, true)).toBeNull();
    expect(powerStateFor(NodeStatus.RESCUE_MODE, false)).toBeNull();
    expect(powerStateFor(NodeStatus.ENTERING_RESCUE_MODE, false)).toBeNull();
    expect(powerStateFor(NodeStatus.DEPLOYING, false)).toMatchObject({ mode: 'reboot' });
    expect(powerStateFor(NodeStatus.DISK_ERASING, true)).toMatchObject({ mode: 'poweroff', timeout: 604800 });
    expect(powerStateFor(NodeStatus.TESTING, false)).toMatchObject({ mode: 'poweroff', timeout: 3600 });
  });

  it("points a deployment's ephemeral environment at the curtin metadata URL, an ephemeral deployment at the plain one", () => {
    const input = { origin: 'http://10.0.0.2:5248', systemId: 'abc123', status: NodeStatus.DEPLOYING, credentials: creds, enableSsh: false };
    const disk = parse(renderNodePreseed(input));
    expect(disk.datasource.MAAS.metadata_url).toBe('http://10.0.0.2:5248/MAAS/metadata/curtin/');
    expect(disk.reporting.maas.endpoint).toBe('http://10.0.0.2:5248/MAAS/metadata/status/abc123');
    expect(disk.power_state).toMatchObject({ mode: 'reboot' });
    const ram = parse(renderNodePreseed({ ...input, ephemeralDeploy: true }));
    expect(ram.datasource.MAAS.metadata_url).toBe('http://10.0.0.2:5248/MAAS/metadata/');
    expect(ram.power_state).toBeUndefined();
    // Booted again once Deployed: still the running system, never powered off after an hour.
    expect(parse(renderNodePreseed({ ...input, status: NodeStatus.DEPLOYED, ephemeralDeploy: true })).power_state).toBeUndefined();
  });

  it('gives an unknown machine the metadata URL only', () => {
    const doc = parse(renderEnlistPreseed('http://rack:5248/'));
    expect(doc.datasource).toEqual({ MAAS: { metadata_url: 'http://rack:5248/MAAS/metadata/' } });
    expect(JSON.stringify(doc)).not.toContain('token');
  });

  it('wraps the vendor cloud-config under one cloud-init key', () => {
    const doc = parse(renderVendorData()) as Record<string, string>;
    expect(Object.keys(doc)).toEqual(['cloud-init']);
    expect(doc['cloud-init'].startsWith('#cloud-config\n')).toBe(true);
  });

  it("adds a vendor script that starts SSH, which cloud-init's own processor reads as a script beside the cloud-config", () => {
    // cloud-init (Debian's, as in the images) converts the MAAS vendor-data and splits it into parts.
    const program = `
import json, sys, yaml
from cloudinit import sources
from cloudinit.user_data import UserDataProcessor
from cloudinit import helpers
vd = sources.convert_vendordata(yaml.safe_load(sys.stdin.read()))
msg = UserDataProcessor(helpers.Paths({})).process(vd)
print(json.dumps([[p.get_content_type(), p.get_filename(), p.get_payload(decode=True).decode()] for p in msg.walk() if not p.is_multipart()]))
`;
    const r = spawnSync('/usr/bin/python3', ['-c', program], { input: renderVendorData({ startSsh: true }), encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const parts = JSON.parse(r.stdout.trim().split('\n').pop()!) as [string, string, string][];
    expect(parts.map(([type, name]) => [type, name])).toEqual([
      ['text/cloud-config', 'kiln-vendor.cfg'],
      ['text/x-shellscript', 'kiln-start-ssh.sh'],
    ]);
    expect(parse(parts[0][2])).toEqual({ manage_etc_hosts: true });
    expect(parts[1][2]).toMatch(/^#!\/bin\/sh\n[^]*\nsystemctl start ssh\.service\n$/);
  });
});
