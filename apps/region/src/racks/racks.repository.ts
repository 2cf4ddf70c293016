import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { RackEnrollmentRequest } from '@kiln/contracts';
import { createEnrollmentToken, forgetRackKeys, hashEnrollmentToken, RackControllerEntity, type RackInterfaceRecord } from '@kiln/db';

export interface RackRegistration {
  systemId: string;
  hostname: string;
  version: string;
  architecture: string;
  /** Stored as reported when none are stored yet (a new or just enrolled rack); RackNetworksService then links them and owns them from then on. */
  interfaces: RackInterfaceRecord[];
  /** The rack's X25519 box public key; a rack without one is sent no secrets. */
  boxPublicKey?: string;
  /** Power types the rack cannot drive, with why; undefined: not reported (the stored value stays). */
  powerUnavailable?: Record<string, string>;
}

/** Every query on rack_controllers, for the NATS side and rackcontrollers/. Times come from the database clock. */
@Injectable()
export class RacksRepository {
  constructor(private readonly ds: DataSource) {}

  /** Inserts or refreshes a rack and marks it running (its interfaces are RackNetworksService's). */
  async upsert(r: RackRegistration): Promise<{ dhcpRevision: number; created: boolean }> {
    const [row] = await this.ds.query(
      `INSERT INTO rack_controllers (system_id, hostname, version, architecture, power_unavailable, last_seen, status, box_public_key, interfaces)
       VALUES ($1, $2, $3, $4, COALESCE($5::jsonb, '{}'), now(), 'running', $6, $7::jsonb)
       ON CONFLICT (system_id) DO UPDATE SET hostname = EXCLUDED.hostname, version = EXCLUDED.version,
         architecture = EXCLUDED.architecture,
         interfaces = CASE WHEN rack_controllers.interfaces = '[]'::jsonb THEN EXCLUDED.interfaces ELSE rack_controllers.interfaces END,
         power_unavailable = COALESCE($5::jsonb, rack_controllers.power_unavailable), last_seen = now(), status = 'running',
         box_public_key = EXCLUDED.box_public_key
       RETURNING dhcp_revision, (xmax = 0) AS created`,
      [
        r.systemId,
        r.hostname,
        r.version,
        r.architecture,
        r.powerUnavailable ? JSON.stringify(r.powerUnavailable) : null,
        r.boxPublicKey ?? null,
        JSON.stringify(r.interfaces),
      ],
    );
    return { dhcpRevision: row.dhcp_revision, created: row.created };
  }

  /** Records a heartbeat; null when the rack is unknown. `was` is the status before. */
  async heartbeat(systemId: string): Promise<{ dhcpRevision: number; was: string } | null> {
    // UPDATE ... RETURNING answers [rows, count] through TypeORM's postgres driver.
    const [rows] = await this.ds.query(
      `UPDATE rack_controllers r SET last_seen = now(), status = 'running'
         FROM (SELECT id, status FROM rack_controllers WHERE system_id = $1 FOR UPDATE) old
        WHERE r.id = old.id
        RETURNING r.dhcp_revision, old.status AS was`,
      [systemId],
    );
    const row = rows[0];
    return row ? { dhcpRevision: row.dhcp_revision, was: row.was } : null;
  }

  /** Marks dead every rack not heard from for `silentMs`; returns the racks that just died. */
  async markSilentDead(silentMs: number): Promise<{ systemId: string; hostname: string; lastSeen: Date | null }[]> {
    const [rows] = await this.ds.query(
      `UPDATE rack_controllers SET status = 'dead'
        WHERE status <> 'dead' AND (last_seen IS NULL OR last_seen < now() - make_interval(secs => $1::float8 / 1000))
        RETURNING system_id, hostname, last_seen`,
      [silentMs],
    );
    return (rows as { system_id: string; hostname: string; last_seen: Date | null }[]).map((r) => ({
      systemId: r.system_id,
      hostname: r.hostname,
      lastSeen: r.last_seen,
    }));
  }

  /** Forgets receipts of rack events older than any redelivery could be. */
  async pruneEventReceipts(olderThanMs: number): Promise<number> {
    const [, count] = await this.ds.query(
      `DELETE FROM rack_event_receipts WHERE received < now() - make_interval(secs => $1::float8 / 1000)`,
      [olderThanMs],
    );
    return Number(count ?? 0);
  }

  /** Every rack, in the order they first registered or enrolled. */
  list(): Promise<RackControllerEntity[]> {
    return this.ds.getRepository(RackControllerEntity).find({ order: { id: 'ASC' } });
  }

  bySystemId(systemId: string): Promise<RackControllerEntity | null> {
    return this.ds.getRepository(RackControllerEntity).findOneBy({ systemId });
  }

  /** The VLANs (ids, ascending) whose primary or secondary rack this is. */
  async vlansServedBy(systemId: string): Promise<number[] | null> {
    const [rack]: { id: number }[] = await this.ds.query(`SELECT id FROM rack_controllers WHERE system_id = $1`, [systemId]);
    if (!rack) return null;
    const vlans: { id: number }[] = await this.ds.query(`SELECT id FROM vlans WHERE primary_rack_id = $1 OR secondary_rack_id = $1 ORDER BY id`, [rack.id]);
    return vlans.map((v) => v.id);
  }

  async delete(systemId: string): Promise<void> {
    await this.ds.query(`DELETE FROM rack_controllers WHERE system_id = $1`, [systemId]);
  }

  // ---- enrollment -------------------------------------------------------------------------------

  /** A new one-time token; only its hash is stored. */
  createEnrollmentToken(ttlMs: number): Promise<{ token: string; expires: Date }> {
    return createEnrollmentToken(this.ds, ttlMs);
  }

  /**
   * Spends the token and records the rack's keys, in one transaction: 'token' when the token is
   * unknown, spent or expired, 'enrolled' when a rack with this id already has a key (nothing changes then).
   */
  enroll(req: RackEnrollmentRequest): Promise<'ok' | 'token' | 'enrolled'> {
    return this.ds
      .transaction(async (em) => {
        const [spent] = await em.query(
          `UPDATE rack_enrollment_tokens SET used_by = $2 WHERE token_hash = $1 AND used_by IS NULL AND expires > now() RETURNING 1`,
          [hashEnrollmentToken(req.token), req.rackId],
        );
        if (!spent?.length) throw new EnrollmentRollback('token');
        const rows: unknown[] = await em.query(
          `INSERT INTO rack_controllers (system_id, hostname, status, box_public_key, nats_nkey) VALUES ($1, $2, 'unknown', $3, $4)
           ON CONFLICT (system_id) DO UPDATE SET box_public_key = EXCLUDED.box_public_key, nats_nkey = EXCLUDED.nats_nkey
             WHERE rack_controllers.nats_nkey IS NULL
           RETURNING 1`,
          [req.rackId, req.hostname, req.boxPublicKey, req.nkey],
        );
        if (!rows.length) throw new EnrollmentRollback('enrolled');
        return 'ok' as const;
      })
      .catch((e: unknown) => {
        if (e instanceof EnrollmentRollback) return e.why;
        throw e;
      });
  }

  /** Forgets the rack's keys; false if it was not enrolled. */
  forgetKeys(rackId: string): Promise<boolean> {
    return forgetRackKeys(this.ds, rackId);
  }
}

/** Rolls the enrollment transaction back (the spent token with it), saying why. */
class EnrollmentRollback extends Error {
  constructor(readonly why: 'token' | 'enrolled') {
    super(why);
  }
}
