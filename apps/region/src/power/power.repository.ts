import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** What a power command needs of a machine: its BMC's type and (sealed) parameters, and its own. */
export interface PowerTargetRow {
  system_id: string;
  power_type: string;
  power_parameters: Record<string, string>;
  instance: Record<string, string>;
}

/** A running rack that can receive secrets. */
export interface LiveRack {
  rackId: string;
  boxPublicKey: string;
}

/** A running rack as rack selection sees it. */
export interface RunningRackRow {
  system_id: string;
  box_public_key: string | null;
  interfaces: { addresses?: string[] }[];
  power_unavailable: Record<string, string> | null;
}

/** Every query power commands make: the machine's BMC, and the racks that could drive it. */
@Injectable()
export class PowerRepository {
  constructor(private readonly ds: DataSource) {}

  async target(systemId: string): Promise<PowerTargetRow | null> {
    const [row] = await this.ds.query(
      `SELECT m.system_id, b.power_type, b.power_parameters, m.instance_power_parameters AS instance
         FROM machines m JOIN bmcs b ON b.id = m.bmc_id WHERE m.system_id = $1`,
      [systemId],
    );
    return row ?? null;
  }

  /**
   * Live racks that can receive secrets (they registered a box public key): those that can drive
   * every power type first, then freshest heartbeat first.
   */
  liveRacks(): Promise<LiveRack[]> {
    return this.ds.query(
      `SELECT system_id AS "rackId", box_public_key AS "boxPublicKey" FROM rack_controllers
        WHERE status = 'running' AND box_public_key IS NOT NULL
        ORDER BY (power_unavailable = '{}'::jsonb) DESC, last_seen DESC NULLS LAST`,
    );
  }

  /** Every running rack, freshest heartbeat first. */
  runningRacks(): Promise<RunningRackRow[]> {
    return this.ds.query(
      `SELECT system_id, box_public_key, interfaces, power_unavailable FROM rack_controllers
        WHERE status = 'running' ORDER BY last_seen DESC NULLS LAST`,
    );
  }
}
