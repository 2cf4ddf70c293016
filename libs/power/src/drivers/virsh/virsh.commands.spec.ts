import { PowerError } from '../../power.errors';
import { checkUri, checkVirsh, domstateToPower, virshArgs } from './virsh.commands';
import { VirshDriver } from './virsh.driver';

const out = (stderr: string, code = 1, stdout = '') => ({ code, stdout, stderr, timedOut: false });

function err(fn: () => unknown): PowerError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PowerError) return e;
    throw e;
  }
  throw new Error('expected a PowerError');
}

describe('virsh commands', () => {
  it('builds argument lists (no shell; the domain after --)', () => {
    expect(virshArgs('qemu+ssh://maas@host/system', 'domstate', '-odd name')).toEqual(['--connect', 'qemu+ssh://maas@host/system', '--quiet', 'domstate', '--', '-odd name']);
  });

  it('maps libvirt states as MAAS does', () => {
    expect(['running', 'in shutdown', 'shut off', 'paused', 'crashed', 'pmsuspended', 'idle'].map((s) => domstateToPower(`${s}\n\n`))).toEqual(['on', 'on', 'off', 'off', 'off', 'off', 'off']);
    expect(err(() => domstateToPower('exploded\n'))).toMatchObject({ code: 'BMC_ERROR' });
  });

  it('classifies virsh errors and accepts changes already made', () => {
    expect(err(() => checkVirsh('domstate', out("error: failed to get domain 'nope'\n")))).toMatchObject({ code: 'BAD_SETTINGS', fatal: true, bmcSays: "error: failed to get domain 'nope'" });
    expect(
      err(() =>
        checkVirsh('start', out('error: failed to connect to the hypervisor\nerror: Cannot recv data: ssh: connect to host 10.0.0.1 port 22: Connection refused\n')),
      ),
    ).toMatchObject({ code: 'BMC_UNREACHABLE', fatal: false });
    expect(err(() => checkVirsh('start', out('error: authentication failed: Failed to authenticate\n')))).toMatchObject({ code: 'BMC_AUTH' });
    expect(checkVirsh('start', out('error: Domain is already active\n'))).toBe('');
    expect(checkVirsh('destroy', out('error: Failed to destroy domain x\nerror: Requested operation is not valid: domain is not running\n'))).toBe('');
    expect(err(() => checkVirsh('reset', out('error: weird\n')))).toMatchObject({ code: 'BMC_ERROR' });
  });

  it('refuses addresses that are not URIs or carry parameters (MAAS: ?command= would run programs)', () => {
    expect(() => checkUri('qemu+ssh://maas@10.0.0.1/system')).not.toThrow();
    expect(() => checkUri('10.0.0.1')).toThrow(/not a libvirt URI/);
    expect(() => checkUri('qemu+ssh://h/system?command=/bin/sh')).toThrow(/extra parameters/);
  });

  it('accepts only libvirtd addresses, never a driver that would make virsh read a rack file or call any web address', () => {
    for (const ok of ['qemu:///system', 'qemu+ssh://maas@10.0.0.1/system', 'qemu+tcp://10.0.0.1:16509/system', 'qemu+tls://h/system', 'qemu+libssh2://h/system', 'xen+ssh://h/', 'lxc:///', 'test:///default']) {
      expect(() => checkUri(ok)).not.toThrow();
    }
    for (const bad of ['test:///etc/shadow', 'test://localhost/etc/kiln/rack.key', 'esx://root@10.0.0.1/', 'vpx://vc/dc/host', 'hyperv://h/', 'http://10.0.0.1/', 'qemu+ext:///system', 'qemu+ssh+tcp://h/system', 'vbox:///session']) {
      expect(() => checkUri(bad)).toThrow(PowerError);
      expect(() => checkUri(bad)).toThrow(/invalid virsh power parameters/);
    }
    expect(() => checkUri('test:///tmp/node.xml', { testDriverFiles: true })).not.toThrow();
  });

  it('hands a password to ssh through SSH_ASKPASS, never on the command line', async () => {
    const seen: { args: readonly string[]; env?: Readonly<Record<string, string>> }[] = [];
    const d = new VirshDriver({
      run: async (spec) => {
        seen.push(spec);
        const askpass = spec.env?.SSH_ASKPASS;
        const { execFileSync } = await import('node:child_process');
        const said = askpass ? execFileSync(askpass, ['password:']).toString() : '';
        return { code: 0, stdout: said === 'hunter22\n' ? 'running\n' : 'shut off\n', stderr: '', timedOut: false, aborted: false };
      },
    });
    const s = d.parseSettings({ power_address: 'qemu+ssh://maas@h/system', power_id: 'vm1', power_pass: 'hunter22' });
    expect(await d.query(s, { timeoutMs: 5000 })).toBe('on');
    expect(seen[0].args.join(' ')).not.toContain('hunter22');
    expect(seen[0].env).toMatchObject({ SSH_ASKPASS_REQUIRE: 'force' });
  });
});
