import { chmod } from 'node:fs/promises';
import { ProcessRunner, runProcess } from '../../adapters/process.runner';
import { withSecretFiles } from '../../adapters/secret-files';
import { PowerError, redact } from '../../power.errors';
import { requireParameters } from '../../power.settings';
import { BootDevice, ChangeOutcome, DriverCallContext, OffMode, PowerDriver, PowerState } from '../../power.types';
import { ASKPASS_SCRIPT, VirshOp, checkUri, checkVirsh, domstateToPower, virshArgs } from './virsh.commands';
import { VIRSH_TYPE, VirshSettings } from './virsh.settings';

export interface VirshDriverOptions {
  run?: ProcessRunner;
  secretDir?: string;
  /** Accept test://<node file> addresses (Kiln's own tests only; a rack never does). */
  testDriverFiles?: boolean;
}

const ACCEPTED: ChangeOutcome = { kind: 'accepted' };

/** libvirt domains through the virsh CLI (qemu:///system, qemu+ssh://host/system, test:///...). */
export class VirshDriver implements PowerDriver<VirshSettings> {
  readonly def = VIRSH_TYPE;
  readonly canQueryBootDevice = false;
  private readonly run: ProcessRunner;

  constructor(private readonly opts: VirshDriverOptions = {}) {
    this.run = opts.run ?? runProcess;
  }

  parseSettings(params: Readonly<Record<string, string>>): VirshSettings {
    const v = requireParameters(VIRSH_TYPE, params);
    checkUri(v.power_address, { testDriverFiles: this.opts.testDriverFiles });
    if (/[\r\n\0]/.test(v.power_pass)) throw new PowerError('BAD_SETTINGS', 'invalid virsh power parameters: power_pass cannot contain line breaks.');
    return { uri: v.power_address, domain: v.power_id, password: v.power_pass };
  }

  bmcKey(s: VirshSettings): string {
    return `virsh:${s.uri}`;
  }

  async query(s: VirshSettings, ctx: DriverCallContext): Promise<PowerState> {
    return domstateToPower(await this.virsh(s, 'domstate', ctx));
  }

  async on(s: VirshSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    await this.virsh(s, 'start', ctx);
    return ACCEPTED;
  }

  async off(s: VirshSettings, mode: OffMode | undefined, ctx: DriverCallContext): Promise<ChangeOutcome> {
    await this.virsh(s, mode === 'soft' ? 'shutdown' : 'destroy', ctx);
    return ACCEPTED;
  }

  async cycle(s: VirshSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const state = await this.query(s, ctx);
    await this.virsh(s, state === 'off' ? 'start' : 'reset', ctx);
    return ACCEPTED;
  }

  async setBootDevice(_s: VirshSettings, _d: BootDevice, _ctx: DriverCallContext): Promise<ChangeOutcome> {
    // As in MAAS (can_set_boot_order = False): the domain's XML decides; define VMs with network boot first.
    throw new PowerError('UNSUPPORTED', 'virsh cannot set a one-time boot device; give the domain network boot first in its XML');
  }

  async queryBootDevice(): Promise<BootDevice | 'none' | 'other'> {
    throw new PowerError('UNSUPPORTED', 'virsh cannot report a one-time boot device');
  }

  private async virsh(s: VirshSettings, op: VirshOp, ctx: DriverCallContext): Promise<string> {
    const files: Record<string, string> = s.password ? { askpass: ASKPASS_SCRIPT, pass: `${s.password}\n` } : {};
    return withSecretFiles(
      files,
      async (paths) => {
        const env: Record<string, string> = {};
        if (paths.askpass) {
          await chmod(paths.askpass, 0o700);
          // ssh (qemu+ssh://) asks this program for the password instead of a terminal.
          Object.assign(env, { SSH_ASKPASS: paths.askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' });
        }
        const res = await this.run({ command: 'virsh', args: virshArgs(s.uri, op, s.domain), env, timeoutMs: ctx.timeoutMs, signal: ctx.signal });
        if (res.aborted) throw new PowerError('BMC_TIMEOUT', 'virsh abandoned: the power command ran out of time');
        return checkVirsh(op, { ...res, stderr: redact(res.stderr, [s.password]), stdout: redact(res.stdout, [s.password]) });
      },
      this.opts.secretDir,
    );
  }
}
