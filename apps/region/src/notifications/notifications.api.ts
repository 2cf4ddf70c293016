import { Injectable, OnModuleInit } from '@nestjs/common';
import { ApiRegistry } from '../api/api.registry';
import { ApiRequest, ApiResponse, ParamDoc } from '../api/api.types';
import type { NotificationRow } from './notifications.repository';
import { NotificationInput, NotificationsService } from './notifications.service';

function json(n: NotificationRow) {
  const u = n.target;
  return {
    id: n.id,
    ident: n.ident,
    user: u ? { is_superuser: u.isAdmin, username: u.username, email: u.email, is_local: true, resource_uri: `/MAAS/api/2.0/users/${encodeURIComponent(u.username)}/` } : null,
    users: n.users,
    admins: n.admins,
    message: n.message,
    context: n.context,
    category: n.category,
    dismissable: n.dismissable,
    resource_uri: `/MAAS/api/2.0/notifications/${n.id}/`,
  };
}

const FIELDS: ParamDoc[] = [
  { name: 'message', required: true, doc: 'The message for this notification. May contain basic HTML.' },
  { name: 'context', doc: 'Optional JSON context. The root object must be an object (a mapping).' },
  { name: 'category', doc: 'Choose from: error, warning, success, or info. Defaults to info.' },
  { name: 'ident', doc: 'Unique identifier for this notification.' },
  { name: 'user', doc: 'User ID or username this notification is intended for.' },
  { name: 'users', type: 'Boolean', doc: 'True to notify all users (non-administrators). Defaults to false.' },
  { name: 'admins', type: 'Boolean', doc: 'True to notify all administrators. Defaults to false.' },
  { name: 'dismissable', type: 'Boolean', doc: 'True to allow users to dismiss the notification. Defaults to true.' },
];
const ID: ParamDoc = { name: 'id', type: 'Int', required: true, doc: 'The notification id.' };

function input(r: ApiRequest): NotificationInput {
  const out: NotificationInput = {};
  for (const k of ['message', 'context', 'category', 'ident', 'user', 'users', 'admins', 'dismissable'] as const) {
    const v = r.params.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** notifications/ and notifications/{id}/: MAAS's NotificationsHandler and NotificationHandler. */
@Injectable()
export class NotificationsApi implements OnModuleInit {
  constructor(
    private readonly registry: ApiRegistry,
    private readonly notifications: NotificationsService,
  ) {}

  onModuleInit() {
    const id = (r: ApiRequest) => Number(r.pathParams.id);
    this.registry.register(
      {
        auth: {
          name: 'NotificationsHandler',
          doc: 'Manage the collection of all the notifications in MAAS.',
          path: '/MAAS/api/2.0/notifications/',
          actions: [
            {
              name: 'read',
              op: null,
              method: 'GET',
              title: 'List notifications',
              description: 'List notifications relevant to the invoking user. Notifications that have been dismissed are not returned.',
              run: async (r) => (await this.notifications.listFor(r.user!)).map(json),
            },
            {
              name: 'create',
              op: null,
              method: 'POST',
              title: 'Create a notification',
              description: 'Create a new notification. This is available to admins only. One of user, users or admins must be set for anyone to see it.',
              permission: 'admin',
              params: FIELDS.filter((f) => f.name !== 'dismissable'),
              run: async (r: ApiRequest) => json(await this.notifications.create(input(r))),
            },
          ],
        },
      },
      {
        auth: {
          name: 'NotificationHandler',
          doc: 'Manage an individual notification.',
          path: '/MAAS/api/2.0/notifications/{id}/',
          ensureExists: async (p) => void (await this.notifications.get({ id: 0, isAdmin: true }, Number(p.id))),
          actions: [
            { name: 'read', op: null, method: 'GET', title: 'Read a notification', params: [ID], run: async (r) => json(await this.notifications.get(r.user!, id(r))) },
            {
              name: 'update',
              op: null,
              method: 'PUT',
              title: 'Update a notification',
              description: 'Update a notification with a given id. This is available to admins only. Fields not sent keep their value.',
              permission: 'admin',
              params: [ID, ...FIELDS.map((f) => ({ ...f, required: false }))],
              run: async (r: ApiRequest) => json(await this.notifications.update(id(r), input(r))),
            },
            {
              name: 'delete',
              op: null,
              method: 'DELETE',
              title: 'Delete a notification',
              permission: 'admin',
              params: [ID],
              run: async (r: ApiRequest) => {
                await this.notifications.delete(id(r));
                return ApiResponse.noContent();
              },
            },
            {
              name: 'dismiss',
              op: 'dismiss',
              method: 'POST',
              title: 'Dismiss a notification',
              description: 'Dismiss a notification with the given id. It is safe to call multiple times for the same notification.',
              params: [ID],
              run: async (r: ApiRequest) => {
                await this.notifications.dismiss(r.user!, id(r));
                return ApiResponse.text(200, '');
              },
            },
          ],
        },
      },
    );
  }
}
