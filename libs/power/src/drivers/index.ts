// @kiln/power/drivers: what a rack runs. The drivers (ipmi, redfish, virsh, webhook, manual), the
// retry-and-verify core, batching, and the process and HTTP adapters, with the catalogue they
// are built on.
export * from '../catalogue';
export * from '../power.policy';
export * from '../power.control';
export * from '../power.runner';
export { planBatchCalls } from '../power.batch';
export type { BatchEntry, BatchMember, BatchCall } from '../power.batch';
export { runProcess } from '../adapters/process.runner';
export type { ProcessRunner, ProcessSpec, ProcessResult } from '../adapters/process.runner';
export { httpRequest } from '../adapters/http.client';
export type { HttpClient, HttpRequest, HttpResponse } from '../adapters/http.client';
export { IpmiDriver } from './ipmi/ipmi.driver';
export type { IpmiDriverOptions } from './ipmi/ipmi.driver';
export type { IpmiTool } from './ipmi/ipmi.commands';
export { RedfishDriver } from './redfish/redfish.driver';
export type { RedfishDriverOptions } from './redfish/redfish.driver';
export { VirshDriver } from './virsh/virsh.driver';
export type { VirshDriverOptions } from './virsh/virsh.driver';
export { WebhookDriver } from './webhook/webhook.driver';
export type { WebhookDriverOptions } from './webhook/webhook.driver';
export { ManualDriver } from './manual/manual.driver';
