import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface NotificationTarget {
  id: number;
  username: string;
  email: string;
  isAdmin: boolean;
}

export interface NotificationRow {
  id: number;
  ident: string | null;
  userId: number | null;
  users: boolean;
  admins: boolean;
  message: string;
  context: Record<string, unknown>;
  category: string;
  dismissable: boolean;
  /** The targeted user, for the answer's `user` object. */
  target: NotificationTarget | null;
}

export type NotificationFields = Omit<NotificationRow, 'id' | 'target'>;

const SELECT = `
  SELECT n.id, n.ident, n.user_id AS "userId", n.users, n.admins, n.message, n.context, n.category, n.dismissable,
         CASE WHEN u.id IS NULL THEN NULL
              ELSE json_build_object('id', u.id, 'username', u.username, 'email', u.email, 'isAdmin', u.is_admin) END AS target
    FROM notifications n LEFT JOIN users u ON u.id = n.user_id`;

/** Every query on notifications and their dismissals. */
@Injectable()
export class NotificationsRepository {
  constructor(private readonly ds: DataSource) {}

  /** MAAS's find_for_user: targeted at the user, at all users (non-admins) or at admins; not dismissed by them. */
  listFor(userId: number, isAdmin: boolean): Promise<NotificationRow[]> {
    return this.ds.query(
      `${SELECT}
        WHERE (n.user_id = $1 OR (n.users AND NOT $2::boolean) OR (n.admins AND $2::boolean))
          AND NOT EXISTS (SELECT 1 FROM notification_dismissals d WHERE d.notification_id = n.id AND d.user_id = $1)
        ORDER BY n.id`,
      [userId, isAdmin],
    );
  }

  async find(id: number): Promise<NotificationRow | null> {
    const rows: NotificationRow[] = await this.ds.query(`${SELECT} WHERE n.id = $1`, [id]);
    return rows[0] ?? null;
  }

  async insert(f: NotificationFields): Promise<number> {
    const rows: { id: number }[] = await this.ds.query(
      `INSERT INTO notifications (ident, user_id, users, admins, message, context, category, dismissable)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) RETURNING id`,
      [f.ident, f.userId, f.users, f.admins, f.message, JSON.stringify(f.context), f.category, f.dismissable],
    );
    return rows[0].id;
  }

  async update(id: number, f: NotificationFields): Promise<void> {
    await this.ds.query(
      `UPDATE notifications SET ident = $2, user_id = $3, users = $4, admins = $5, message = $6, context = $7::jsonb,
              category = $8, dismissable = $9, updated = now() WHERE id = $1`,
      [id, f.ident, f.userId, f.users, f.admins, f.message, JSON.stringify(f.context), f.category, f.dismissable],
    );
  }

  async delete(id: number): Promise<void> {
    await this.ds.query(`DELETE FROM notifications WHERE id = $1`, [id]);
  }

  async dismiss(id: number, userId: number): Promise<void> {
    await this.ds.query(`INSERT INTO notification_dismissals (notification_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [id, userId]);
  }

  /** A user by id (all digits) or username, or null. */
  async findUser(ref: string): Promise<{ id: number } | null> {
    const rows: { id: number }[] = /^\d+$/.test(ref)
      ? await this.ds.query(`SELECT id FROM users WHERE id = $1 AND NOT is_system`, [Number(ref)])
      : await this.ds.query(`SELECT id FROM users WHERE username = $1 AND NOT is_system`, [ref]);
    return rows[0] ?? null;
  }
}
