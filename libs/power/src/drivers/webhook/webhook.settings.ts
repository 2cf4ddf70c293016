import { field } from '../../power.settings';
import { PowerTypeDef } from '../../power.types';

/** MAAS's webhook power type (src/provisioningserver/drivers/power/webhook.py). */
export const WEBHOOK_TYPE: PowerTypeDef = {
  name: 'webhook',
  description: 'Webhook',
  chassis: false,
  can_probe: false,
  queryable: true,
  fields: [
    field('power_on_uri', 'URI to power on the node', { required: true }),
    field('power_off_uri', 'URI to power off the node', { required: true }),
    field('power_query_uri', 'URI to query the nodes power status', { required: true }),
    field('power_on_regex', 'Regex to confirm the node is on', { default: 'status.*\\:.*running', required: true }),
    field('power_off_regex', 'Regex to confirm the node is off', { default: 'status.*\\:.*stopped', required: true }),
    field('power_user', 'Power user'),
    field('power_pass', 'Power password', { field_type: 'password', secret: true }),
    field('power_token', 'Power token, will be used in place of power_user and power_pass', { field_type: 'password', secret: true }),
    field('power_verify_ssl', 'Verify SSL connections with system CA certificates', {
      field_type: 'choice',
      required: true,
      choices: [
        ['n', 'No'],
        ['y', 'Yes'],
      ],
      default: 'n',
    }),
  ],
};

export interface WebhookSettings {
  onUri: string;
  offUri: string;
  queryUri: string;
  onRegex: RegExp;
  offRegex: RegExp;
  user: string;
  password: string;
  token: string;
  verifyTls: boolean;
}
