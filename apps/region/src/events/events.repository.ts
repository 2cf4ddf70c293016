import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EVENT_LEVELS, EventLevelName } from './event-levels';
import type { MachineEventType } from './event-types.catalogue';

export interface NewEvent {
  machineId: number;
  systemId: string;
  hostname: string;
  type: MachineEventType;
  level: EventLevelName;
  description: string;
  action?: string;
  username?: string;
  /**
   * The event becomes the machine's status message only while the machine is still in this
   * status (checked in the same statement): news of a step that a failure overtook never
   * replaces that failure's message.
   */
  whileStatus?: number;
}

export interface EventRow {
  id: string;
  system_id: string;
  hostname: string;
  level: number;
  type: string;
  description: string;
  action: string;
  username: string;
  created: Date;
}

export interface EventQuery {
  systemIds?: string[];
  hostnames?: string[];
  macs?: string[];
  zones?: string[];
  owners?: string[];
  minLevel: number;
  before?: string;
  after?: string;
  limit: number;
  /** Non-admins see events of machines they own or that are unowned. */
  visibleToUserId?: number;
}

/**
 * The per-machine event log. Appending an event also records it as the machine's latest status
 * message, in the same transaction as the change it describes.
 */
@Injectable()
export class EventsRepository {
  constructor(private readonly ds: DataSource) {}

  async append(e: NewEvent, em?: EntityManager): Promise<void> {
    const q = em ?? this.ds.manager;
    await q.query(
      `INSERT INTO events (machine_id, system_id, hostname, level, type, description, action, username)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.machineId, e.systemId, e.hostname, EVENT_LEVELS[e.level], e.type, e.description, e.action ?? '', e.username ?? ''],
    );
    if (EVENT_LEVELS[e.level] >= EVENT_LEVELS.INFO) {
      const values: unknown[] = [e.machineId, e.description ? `${e.type} - ${e.description}` : e.type, e.action ?? ''];
      if (e.whileStatus !== undefined) values.push(e.whileStatus);
      await q.query(
        `UPDATE machines SET status_message = $2, status_action = $3 WHERE id = $1${e.whileStatus !== undefined ? ' AND status = $4' : ''}`,
        values,
      );
    }
  }

  /** The machine's newest event (type and description), or null; read in `em` when given. */
  async latestOf(machineId: number, em?: EntityManager): Promise<{ type: string; description: string } | null> {
    const [row] = await (em ?? this.ds.manager).query(`SELECT type, description FROM events WHERE machine_id = $1 ORDER BY id DESC LIMIT 1`, [machineId]);
    return row ?? null;
  }

  async query(f: EventQuery): Promise<EventRow[]> {
    const where: string[] = ['e.level >= $1'];
    const values: unknown[] = [f.minLevel];
    const add = (clause: string, v: unknown) => {
      values.push(v);
      where.push(clause.replace('?', `$${values.length}`));
    };
    if (f.systemIds?.length) add('e.system_id = ANY(?)', f.systemIds);
    if (f.hostnames?.length) add('e.hostname = ANY(?)', f.hostnames);
    if (f.macs?.length) {
      add('e.machine_id IN (SELECT machine_id FROM interfaces WHERE mac_address = ANY(?))', f.macs);
    }
    if (f.zones?.length) {
      add('e.machine_id IN (SELECT m.id FROM machines m JOIN zones z ON z.id = m.zone_id WHERE z.name = ANY(?))', f.zones);
    }
    if (f.owners?.length) {
      add('e.machine_id IN (SELECT m.id FROM machines m JOIN users u ON u.id = m.owner_id WHERE u.username = ANY(?))', f.owners);
    }
    if (f.visibleToUserId !== undefined) {
      add('e.machine_id IN (SELECT id FROM machines WHERE owner_id IS NULL OR owner_id = ?)', f.visibleToUserId);
    }
    let order = 'DESC';
    if (f.before) add('e.id < ?', f.before);
    if (f.after) {
      add('e.id > ?', f.after);
      order = 'ASC';
    }
    values.push(f.limit);
    const rows: EventRow[] = await this.ds.query(
      `SELECT e.id, e.system_id, e.hostname, e.level, e.type, e.description, e.action, e.username, e.created
         FROM events e WHERE ${where.join(' AND ')} ORDER BY e.id ${order} LIMIT $${values.length}`,
      values,
    );
    // Always newest first, also when paging forwards with `after`.
    return order === 'ASC' ? rows.reverse() : rows;
  }
}
