import { ProcessRunner, runProcess } from '../../adapters/process.runner';
import { withSecretFiles } from '../../adapters/secret-files';
import { PowerError, redact } from '../../power.errors';
import { BootDevice, ChangeOutcome, DriverCallContext, OffMode, PowerDriver, PowerState, QueryGroup, QueryManyAnswer } from '../../power.types';
import {
  IpmiOp,
  IpmiTool,
  freeipmiFiles,
  freeipmiInvocation,
  freeipmiQueryGroup,
  freeipmiStatMany,
  ipmitoolFiles,
  ipmitoolInvocation,
  pickTool,
} from './ipmi.commands';
import {
  ToolOutput,
  chassisConfigBootDevice,
  chassisConfigCheck,
  ipmipowerResult,
  ipmipowerState,
  ipmipowerStates,
  ipmitoolBootDevice,
  ipmitoolCheck,
  ipmitoolState,
} from './ipmi.output';
import { IPMI_TYPE, IpmiSettings, parseIpmiSettings } from './ipmi.settings';

export interface IpmiDriverOptions {
  /** The tool family to prefer (default freeipmi, as MAAS); some BMCs always need ipmitool. */
  tool?: IpmiTool;
  /** Where credential files are written (default: the system temp dir). */
  secretDir?: string;
  run?: ProcessRunner;
}

const ACCEPTED: ChangeOutcome = { kind: 'accepted' };

/** IPMI 1.5 (LAN) and 2.0 (LAN_2_0, RMCP+) through freeipmi or ipmitool. */
export class IpmiDriver implements PowerDriver<IpmiSettings> {
  readonly def = IPMI_TYPE;
  readonly canQueryBootDevice = true;
  private readonly run: ProcessRunner;

  constructor(private readonly opts: IpmiDriverOptions = {}) {
    this.run = opts.run ?? runProcess;
  }

  parseSettings(params: Readonly<Record<string, string>>): IpmiSettings {
    return parseIpmiSettings(params);
  }

  bmcKey(s: IpmiSettings): string {
    return `ipmi:${s.host}:${s.port ?? 623}`;
  }

  /** Which tool a call with these settings would use. */
  toolFor(s: IpmiSettings): IpmiTool {
    return pickTool(s, this.opts.tool ?? 'freeipmi');
  }

  async query(s: IpmiSettings, ctx: DriverCallContext): Promise<PowerState> {
    const { tool, out } = await this.exec(s, { op: 'stat' }, ctx);
    return tool === 'freeipmi' ? ipmipowerState(out) : ipmitoolState(out);
  }

  /** BMCs driven with freeipmi share an ipmipower run when all but their host and port agree. */
  queryGroup(s: IpmiSettings): QueryGroup | null {
    return freeipmiQueryGroup(s, this.opts.tool ?? 'freeipmi');
  }

  /**
   * One `ipmipower -h a,b,c --stat` for BMCs of one query group, the credentials in a config
   * file as for one BMC. Refuses BMCs of different groups or of one name: credentials of one
   * group must never reach another's hosts, and ipmipower's answers would be ambiguous.
   */
  async queryMany(settings: readonly IpmiSettings[], ctx: DriverCallContext): Promise<QueryManyAnswer[]> {
    if (settings.length === 0) return [];
    const groups = settings.map((s) => this.queryGroup(s));
    const key = groups[0]?.key;
    const names = new Set(groups.map((g) => g?.name.toLowerCase()));
    if (!key || groups.some((g) => g?.key !== key) || names.size !== settings.length) {
      throw new Error('these BMCs cannot be queried in one ipmipower run (different settings or one host twice)');
    }
    const first = settings[0];
    return withSecretFiles(
      freeipmiFiles(first, { op: 'stat' }),
      async (paths) => {
        const inv = freeipmiStatMany(settings, paths, ctx.timeoutMs);
        const res = await this.run({ ...inv, timeoutMs: ctx.timeoutMs, signal: ctx.signal });
        if (res.aborted) throw new PowerError('BMC_TIMEOUT', `${inv.command} abandoned: the power command ran out of time`);
        const secrets = [first.password, first.kg];
        const out = { ...res, stdout: redact(res.stdout, secrets), stderr: redact(res.stderr, secrets) };
        return ipmipowerStates(out, settings.map((s) => s.host));
      },
      this.opts.secretDir,
    );
  }

  async on(s: IpmiSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    return this.change(s, { op: 'on' }, ctx);
  }

  async off(s: IpmiSettings, mode: OffMode | undefined, ctx: DriverCallContext): Promise<ChangeOutcome> {
    return this.change(s, { op: (mode ?? s.offMode) === 'soft' ? 'soft' : 'off' }, ctx);
  }

  async cycle(s: IpmiSettings, ctx: DriverCallContext): Promise<ChangeOutcome> {
    if (this.toolFor(s) === 'freeipmi') return this.change(s, { op: 'cycle' }, ctx);
    // ipmitool has no --on-if-off: a chassis that is off does not cycle, so start it instead.
    const state = await this.query(s, ctx);
    return this.change(s, { op: state === 'off' ? 'on' : 'cycle' }, ctx);
  }

  async setBootDevice(s: IpmiSettings, device: BootDevice, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const { tool, out } = await this.exec(s, { op: 'set-boot', device }, ctx);
    if (tool === 'freeipmi') chassisConfigCheck(out);
    else ipmitoolCheck(out);
    return ACCEPTED;
  }

  async queryBootDevice(s: IpmiSettings, ctx: DriverCallContext): Promise<BootDevice | 'none' | 'other'> {
    const { tool, out } = await this.exec(s, { op: 'get-boot' }, ctx);
    return tool === 'freeipmi' ? chassisConfigBootDevice(out) : ipmitoolBootDevice(out);
  }

  private async change(s: IpmiSettings, op: IpmiOp, ctx: DriverCallContext): Promise<ChangeOutcome> {
    const { tool, out } = await this.exec(s, op, ctx);
    if (tool === 'freeipmi') ipmipowerResult(out);
    else ipmitoolCheck(out);
    return ACCEPTED;
  }

  private async exec(s: IpmiSettings, op: IpmiOp, ctx: DriverCallContext): Promise<{ tool: IpmiTool; out: ToolOutput }> {
    const tool = this.toolFor(s);
    const files = tool === 'freeipmi' ? freeipmiFiles(s, op) : ipmitoolFiles(s);
    return withSecretFiles(
      files,
      async (paths) => {
        const inv =
          tool === 'freeipmi' ? freeipmiInvocation(s, op, paths, ctx.timeoutMs) : ipmitoolInvocation(s, op, paths, ctx.timeoutMs);
        const res = await this.run({ ...inv, timeoutMs: ctx.timeoutMs, signal: ctx.signal });
        if (res.aborted) throw new PowerError('BMC_TIMEOUT', `${inv.command} abandoned: the power command ran out of time`);
        const secrets = [s.password, s.kg];
        return { tool, out: { ...res, stdout: redact(res.stdout, secrets), stderr: redact(res.stderr, secrets) } };
      },
      this.opts.secretDir,
    );
  }
}
