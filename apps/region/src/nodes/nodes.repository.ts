import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export type NodeKind = 'machine' | 'device' | 'rack' | 'region';

/** The one query of the generic node view: which kind of node a system id names. */
@Injectable()
export class NodesRepository {
  constructor(private readonly ds: DataSource) {}

  async kindOf(systemId: string): Promise<NodeKind | null> {
    const [row] = await this.ds.query(
      `SELECT 'machine' AS kind FROM machines WHERE system_id = $1
       UNION ALL SELECT 'device' FROM devices WHERE system_id = $1
       UNION ALL SELECT 'rack' FROM rack_controllers WHERE system_id = $1
       UNION ALL SELECT 'region' FROM region_controllers WHERE system_id = $1 LIMIT 1`,
      [systemId],
    );
    return (row?.kind as NodeKind) ?? null;
  }
}
