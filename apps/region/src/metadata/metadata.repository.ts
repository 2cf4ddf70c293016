import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** What the metadata API tells a machine about itself. */
export interface MetadataMachine {
  id: number;
  system_id: string;
  hostname: string;
  domain: string;
  status: number;
  owner_id: number | null;
  enable_ssh: boolean;
  enlisting: boolean;
  user_data: Buffer | null;
  ephemeral_deploy: boolean;
  current_commissioning_script_set_id: number | null;
  current_testing_script_set_id: number | null;
  current_release_script_set_id: number | null;
}

/** A script's current revision, for the anonymous enlistment tar. */
export interface EnlistmentScriptRow {
  id: number;
  name: string;
  tags: string[];
  hardware_type: number;
  parallel: number;
  timeout_seconds: number;
  apply_configured_networking: boolean;
  for_hardware: string[];
  packages: Record<string, unknown>;
  parameters: Record<string, Record<string, unknown>>;
  is_default: boolean;
  version_id: number | null;
  data: Buffer | null;
}

/** Every SQL string of the metadata API that is not about runs and tokens (scripts/). */
@Injectable()
export class MetadataRepository {
  constructor(private readonly ds: DataSource) {}

  async machine(machineId: number, em?: EntityManager): Promise<MetadataMachine | null> {
    const rows: MetadataMachine[] = await (em ?? this.ds.manager).query(
      `SELECT m.id, m.system_id, m.hostname, d.name AS domain, m.status, m.owner_id, m.enable_ssh, m.enlisting, m.user_data, m.ephemeral_deploy,
              m.current_commissioning_script_set_id, m.current_testing_script_set_id, m.current_release_script_set_id
         FROM machines m JOIN domains d ON d.id = m.domain_id WHERE m.id = $1`,
      [machineId],
    );
    return rows[0] ?? null;
  }

  async machineIdBySystemId(systemId: string): Promise<number | null> {
    const rows: { id: number }[] = await this.ds.query(`SELECT id FROM machines WHERE system_id = $1`, [systemId]);
    return rows[0]?.id ?? null;
  }

  async sshKeys(userId: number): Promise<string[]> {
    const rows: { key: string }[] = await this.ds.query(`SELECT key FROM ssh_keys WHERE user_id = $1 ORDER BY id`, [userId]);
    return rows.map((r) => r.key);
  }

  /** Built-in commissioning scripts an unknown machine runs before it exists (no configured networking). */
  async enlistmentScripts(): Promise<EnlistmentScriptRow[]> {
    return this.ds.query(
      `SELECT s.id, s.name, s.tags, s.hardware_type, s.parallel, s.timeout_seconds, s.apply_configured_networking, s.for_hardware,
              s.packages, s.parameters, s.is_default, v.id AS version_id, v.data
         FROM scripts s LEFT JOIN script_versions v ON v.id = s.current_version_id
        WHERE s.script_type = 0 AND s.is_default AND NOT s.apply_configured_networking
        ORDER BY s.name`,
    );
  }

  async setNetboot(machineId: number, on: boolean): Promise<void> {
    await this.ds.query(`UPDATE machines SET netboot = $2 WHERE id = $1`, [machineId, on]);
  }
}
