import { Injectable } from '@nestjs/common';
import { conflict, forbidden, invalid, notFound } from '../common/domain.error';
import { parseBool } from '../common/values';
import { NotificationFields, NotificationRow, NotificationsRepository } from './notifications.repository';

export interface NotificationActor {
  id: number;
  isAdmin: boolean;
}

/** What an administrator sent to create or change a notification: only the fields present. */
export interface NotificationInput {
  message?: string;
  context?: string;
  category?: string;
  ident?: string;
  user?: string;
  users?: string;
  admins?: string;
  dismissable?: string;
}

export const CATEGORIES = ['error', 'warning', 'success', 'info'] as const;

/** MAAS's Notification.is_relevant_to. */
export function isRelevantTo(n: Pick<NotificationRow, 'userId' | 'users' | 'admins'>, who: NotificationActor): boolean {
  return n.userId === who.id || (n.users && !who.isAdmin) || (n.admins && who.isAdmin);
}

/** Notifications: administrators create and change them; users see those aimed at them and dismiss them. */
@Injectable()
export class NotificationsService {
  constructor(private readonly repo: NotificationsRepository) {}

  listFor(who: NotificationActor): Promise<NotificationRow[]> {
    return this.repo.listFor(who.id, who.isAdmin);
  }

  private async find(id: number): Promise<NotificationRow> {
    const n = Number.isInteger(id) ? await this.repo.find(id) : null;
    if (!n) throw notFound('No Notification matches the given query.');
    return n;
  }

  /** Administrators may read any notification; users those relevant to them. */
  async get(who: NotificationActor, id: number): Promise<NotificationRow> {
    const n = await this.find(id);
    if (!who.isAdmin && !isRelevantTo(n, who)) throw forbidden('You do not have permission to view this notification.');
    return n;
  }

  async create(input: NotificationInput): Promise<NotificationRow> {
    const fields = await this.validate(input, { ident: null, userId: null, users: false, admins: false, message: '', context: {}, category: 'info', dismissable: true });
    return this.find(await this.repo.insert(fields));
  }

  async update(id: number, input: NotificationInput): Promise<NotificationRow> {
    const n = await this.find(id);
    await this.repo.update(id, await this.validate(input, n));
    return this.find(id);
  }

  async delete(id: number): Promise<void> {
    await this.repo.delete((await this.find(id)).id);
  }

  /** Safe to repeat. Refused for a notification not aimed at the caller (as MAAS, admins included). */
  async dismiss(who: NotificationActor, id: number): Promise<void> {
    const n = await this.find(id);
    if (!isRelevantTo(n, who)) throw forbidden('This notification is not addressed to you.');
    if (!n.dismissable) throw conflict('This notification cannot be dismissed.');
    await this.repo.dismiss(n.id, who.id);
  }

  private async validate(input: NotificationInput, base: NotificationFields): Promise<NotificationFields> {
    const errors: Record<string, string[]> = {};
    const f: NotificationFields = { ...base, context: base.context };
    if (input.message !== undefined) f.message = input.message;
    if (!f.message.trim()) errors.message = ['This field is required.'];
    if (input.context !== undefined && input.context !== '') {
      try {
        const ctx: unknown = JSON.parse(input.context);
        if (ctx === null || typeof ctx !== 'object' || Array.isArray(ctx)) errors.context = ['Context must be a JSON object (mapping).'];
        else f.context = ctx as Record<string, unknown>;
      } catch {
        errors.context = ['Enter valid JSON.'];
      }
    }
    if (input.category !== undefined) {
      if (!(CATEGORIES as readonly string[]).includes(input.category)) errors.category = [`Select a valid choice. ${input.category} is not one of the available choices.`];
      else f.category = input.category;
    }
    if (input.ident !== undefined) {
      if (input.ident.length > 40) errors.ident = ['Ensure this value has at most 40 characters.'];
      f.ident = input.ident === '' ? null : input.ident;
    }
    for (const k of ['users', 'admins', 'dismissable'] as const) {
      const raw = input[k];
      if (raw === undefined) continue;
      const b = raw === '' ? false : parseBool(raw);
      if (b === undefined) errors[k] = [`'${raw}' value must be either True or False.`];
      else f[k] = b;
    }
    if (input.user !== undefined) {
      if (input.user === '') f.userId = null;
      else {
        const u = await this.repo.findUser(input.user);
        if (!u) errors.user = ['Select a valid choice. That choice is not one of the available choices.'];
        else f.userId = u.id;
      }
    }
    if (Object.keys(errors).length) throw invalid(errors);
    return f;
  }
}
