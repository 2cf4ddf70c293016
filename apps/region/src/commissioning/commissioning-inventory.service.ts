import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { invalid, notFound } from '../common/domain.error';
import { log } from '../logging/logger';
import { StorageService } from '../storage/storage.service';
import { CommissioningInventoryRepository } from './commissioning-inventory.repository';
import {
  bootInterfaceMac,
  CommissioningOutputError,
  parseMachineResources,
  parseModaliases,
  parseSerialPorts,
} from './commissioning-resources.mapper';
import { forHardwareMatches, type HardwareFacts } from './for-hardware.matcher';

/** The commissioning scripts whose output the region reads (MAAS: NODE_INFO_SCRIPTS with a hook, plus lshw and LLDP). */
export const POST_PROCESSED_SCRIPTS = [
  '50-maas-01-commissioning',
  'maas-kernel-cmdline',
  'maas-lshw',
  'maas-capture-lldpd',
  'maas-serial-ports',
  'maas-list-modaliases',
] as const;

/** What op=details serves: MAAS's probed details, null where commissioning has not reported them. */
export interface ProbedDetails {
  lshw: Buffer | null;
  lldp: Buffer | null;
}

/**
 * Turns the output of the commissioning scripts the region reads into the machine's hardware
 * inventory: CPUs, memory, NUMA nodes, disks, NICs and hardware_info from the machine-resources
 * document, the boot interface from BOOTIF, and the lshw/LLDP/modalias/serial-port outputs kept
 * as reported. Output of other scripts is left alone.
 */
@Injectable()
export class CommissioningInventoryService {
  constructor(
    private readonly repo: CommissioningInventoryRepository,
    private readonly storage: StorageService,
  ) {}

  /**
   * Applies one stored commissioning result's stdout to the machine, in the caller's transaction.
   * Call it for every result that passed (MAAS runs its hooks only on exit status 0); output of
   * scripts the region does not read is ignored.
   *
   * Writes the machine row itself (cpu_count, cpu_speed, memory, architecture, hardware_uuid,
   * bios_boot_method, hardware_info) with SQL: a MachineEntity the caller loaded before this call
   * is stale in those columns, and TypeORM's save() would write the stale values back. Load (or
   * reload) the entity after apply() before saving it, e.g. before a lifecycle transition.
   * Throws INVALID (with the reason) when the output cannot be read; the caller's transaction
   * then holds nothing of it.
   */
  async apply(em: EntityManager, machineId: number, scriptName: string, stdout: Buffer): Promise<void> {
    if (!(POST_PROCESSED_SCRIPTS as readonly string[]).includes(scriptName)) return;
    const machine = await this.repo.lockMachine(em, machineId);
    if (!machine) throw notFound(`No machine with id ${machineId}.`);
    const logger = log().child({ systemId: machine.system_id, script: scriptName });
    try {
      switch (scriptName as (typeof POST_PROCESSED_SCRIPTS)[number]) {
        case '50-maas-01-commissioning': {
          const inventory = parseMachineResources(stdout);
          const changes = await this.repo.writeInventory(em, machineId, inventory);
          // MAAS applies the storage layout to the disks commissioning found (unless told to leave storage alone);
          // the same disks reported again keep the storage made on them.
          const { added, updated, removed } = changes.disks;
          await this.storage.applyLayoutAfterCommissioning(em, machineId, added.length + updated.length + removed.length > 0);
          await this.repo.storeDetail(em, machineId, 'serial_ports', Buffer.from(JSON.stringify(inventory.serialPorts)));
          // Scripts run side by side: the kernel command line may have been read before the NICs existed.
          const { boot_mac: bootMac } = await this.repo.details(machineId, ['boot_mac'], em);
          if (bootMac) await this.repo.setBootInterface(em, machineId, bootMac.toString());
          for (const { mac, machineId: from } of changes.interfaces.movedFrom) {
            logger.warn({ mac, fromMachineId: from }, 'an interface moved to this machine from another one');
          }
          logger.info({ changes }, 'hardware inventory applied');
          return;
        }
        case 'maas-kernel-cmdline': {
          const mac = bootInterfaceMac(utf8(stdout));
          // No BOOTIF (a machine booted some other way) is not an error, as in MAAS; nor is a MAC the machine does not have
          // yet: the hardware inventory, which may come after this, sets it then.
          if (mac) await this.repo.storeDetail(em, machineId, 'boot_mac', Buffer.from(mac));
          if (mac && !(await this.repo.setBootInterface(em, machineId, mac))) {
            logger.info({ mac }, 'BOOTIF names an interface the machine does not have (yet)');
          }
          return;
        }
        case 'maas-lshw':
          await this.repo.storeDetail(em, machineId, 'lshw', xml(stdout, false));
          return;
        case 'maas-capture-lldpd':
          // lldpd may have heard no neighbour: empty output is kept as it is.
          await this.repo.storeDetail(em, machineId, 'lldp', xml(stdout, true));
          return;
        case 'maas-serial-ports': {
          const ports = parseSerialPorts(json(stdout), 'the serial port list');
          await this.repo.storeDetail(em, machineId, 'serial_ports', Buffer.from(JSON.stringify(ports)));
          return;
        }
        case 'maas-list-modaliases':
          await this.repo.storeDetail(em, machineId, 'modaliases', Buffer.from(parseModaliases(utf8(stdout)).join('\n')));
          return;
      }
    } catch (e) {
      if (e instanceof CommissioningOutputError) {
        logger.warn({ reason: e.reason }, 'commissioning output could not be read');
        throw invalid(`Failed processing commissioning data of ${scriptName}: ${e.reason}`);
      }
      throw e;
    }
  }

  /** The lshw and LLDP XML the machine last reported, for op=details. */
  async details(machineId: number): Promise<ProbedDetails> {
    const d = await this.repo.details(machineId, ['lshw', 'lldp']);
    return { lshw: d.lshw ?? null, lldp: d.lldp ?? null };
  }

  /** What commissioning found that `for_hardware` entries match: modaliases and hardware_info. */
  async hardwareFacts(em: EntityManager, machineId: number): Promise<HardwareFacts> {
    const d = await this.repo.details(machineId, ['modaliases'], em);
    return {
      modaliases: d.modaliases ? utf8(d.modaliases).split('\n').filter((l) => l !== '') : [],
      hardwareInfo: await this.repo.hardwareInfo(em, machineId),
    };
  }

  /** Whether a script's `for_hardware` list matches the machine (MAAS adds such scripts to a run only then). */
  async matchesForHardware(em: EntityManager, machineId: number, forHardware: readonly string[]): Promise<boolean> {
    return forHardware.length > 0 && forHardwareMatches(forHardware, await this.hardwareFacts(em, machineId));
  }
}

function utf8(b: Buffer): string {
  return b.toString('utf8');
}

function json(b: Buffer): unknown {
  try {
    return JSON.parse(utf8(b));
  } catch {
    throw new CommissioningOutputError('invalid JSON data');
  }
}

/** XML output is kept byte for byte; it must at least be XML (MAAS parses it for tag definitions). */
function xml(b: Buffer, emptyAllowed: boolean): Buffer {
  const head = utf8(b.subarray(0, 512)).replace(/^\uFEFF/, '').trimStart();
  if (head === '' && emptyAllowed) return b;
  if (!head.startsWith('<')) throw new CommissioningOutputError(head === '' ? 'no output' : 'not an XML document');
  return b;
}
