// @kiln/power/catalogue: what the region needs to know about power, and nothing it would have to
// run. The power types and their settings (MAAS describe_power_types), parameter validation and
// redaction, the error codes, and the shared types. No driver, no process or HTTP adapter.
export * from './power.types';
export * from './power.errors';
export * from './power.settings';
export * from './power-types.catalogue';
export { IPMI_TYPE, parseIpmiSettings } from './drivers/ipmi/ipmi.settings';
export type { IpmiSettings } from './drivers/ipmi/ipmi.settings';
export { REDFISH_TYPE } from './drivers/redfish/redfish.settings';
export type { RedfishSettings } from './drivers/redfish/redfish.settings';
export { VIRSH_TYPE } from './drivers/virsh/virsh.settings';
export type { VirshSettings } from './drivers/virsh/virsh.settings';
export { WEBHOOK_TYPE } from './drivers/webhook/webhook.settings';
export type { WebhookSettings } from './drivers/webhook/webhook.settings';
export { MANUAL_TYPE } from './drivers/manual/manual.settings';
