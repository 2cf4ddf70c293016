import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'nats';
import { DataSource } from 'typeorm';
import { BootConfig, GetBootConfig, RequestOf } from '@kiln/contracts';
import { ContractBus } from '@kiln/contracts/nats';
import { isNodeStatus } from '@kiln/lifecycle';
import { BootResourcesService } from '../boot-resources/boot-resources.service';
import { EventsRepository } from '../events/events.repository';
import { log, withLogContext } from '../logging/logger';
import { BootMachine, decideBootConfig } from './boot-config.decider';
import { CONTRACT_BUS } from '../nats/nats.module';
import { REGION_QUEUE } from './rack-registration.handler';
import { bootRequestEvent } from './rack-events.catalogue';
import { senderRack } from './rack-sender';
import { ConfigService } from '../settings/config.service';

/**
 * Answers GetBootConfig ("what should this MAC boot?") from the machine's status (decideBootConfig), and
 * records the request on the machine. A rack asks when a network-booting client sends DHCP
 * (without waiting for the answer: the DHCP reply's loader is the rack's; the question warms the
 * rack's cache and leaves the event) and when the loader fetches its per-MAC config over TFTP or
 * HTTP, which the rack renders from this answer (or its cached copy while no region answers).
 */
@Injectable()
export class BootConfigHandler implements OnApplicationBootstrap, OnModuleDestroy {
  private sub: Subscription | null = null;

  constructor(
    @Inject(CONTRACT_BUS) private readonly bus: ContractBus,
    private readonly ds: DataSource,
    private readonly events: EventsRepository,
    private readonly images: BootResourcesService,
    private readonly settings: ConfigService,
  ) {}

  onApplicationBootstrap() {
    this.sub = this.bus.serve(
      GetBootConfig,
      ['*'],
      (req, ctx) =>
        withLogContext({ rackId: req.rackId, mac: req.mac }, () => this.answer({ ...req, rackId: senderRack(this.bus, ctx, req.rackId) })),
      { queue: REGION_QUEUE },
    );
  }

  onModuleDestroy() {
    this.sub?.unsubscribe();
  }

  /**
   * MAAS's kernel options for a boot: the kernel_opts setting, then those of the machine's tags
   * that have any, in tag name order (so a tag's options can override the global ones).
   */
  private async kernelOpts(machineId: number | null): Promise<string | null> {
    const global = ((await this.settings.get('kernel_opts')) as string | null)?.trim() ?? '';
    const tags: { kernel_opts: string }[] = machineId === null ? [] : await this.ds.query(
      `SELECT t.kernel_opts FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id WHERE mt.machine_id = $1 AND btrim(t.kernel_opts) <> '' ORDER BY t.name`,
      [machineId],
    );
    const all = [global, ...tags.map((t) => t.kernel_opts.trim())].filter(Boolean).join(' ');
    return all || null;
  }

  async answer(req: RequestOf<typeof GetBootConfig>): Promise<BootConfig> {
    const [row] = await this.ds.query(
      `SELECT m.id, m.system_id, m.hostname, m.status, m.architecture, m.ephemeral_deploy, m.netboot, m.osystem, m.distro_series
         FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE i.mac_address = $1 AND i.type = 'physical'`,
      [req.mac],
    );
    const machine: BootMachine | null =
      row && isNodeStatus(row.status)
        ? { systemId: row.system_id, hostname: row.hostname, status: row.status, architecture: row.architecture, ephemeralDeploy: row.ephemeral_deploy, netboot: row.netboot,
            release: row.osystem && row.distro_series ? `${row.osystem}/${row.distro_series}` : null }
        : null;
    const config = decideBootConfig(machine, req, await this.images.netbootImages(), { kernelOpts: await this.kernelOpts(row?.id ?? null) });
    if (config.kind === 'no-image') log().warn({ systemId: machine?.systemId, arch: config.arch, purpose: config.purpose }, config.message);
    else log().info({ systemId: machine?.systemId, kind: config.kind, purpose: config.purpose, iface: req.iface }, 'boot config answered');
    if (row) {
      const e = bootRequestEvent(config, req.rackId, req.iface, req.clientArch);
      await this.events.append({ machineId: row.id, systemId: row.system_id, hostname: row.hostname, ...e });
    }
    return config;
  }
}
