// Power control: the driver contract, the drivers (ipmi, redfish, virsh, webhook, manual), the
// retry-and-verify core, and the power-type catalogue the region validates parameters with.
export * from './power.types';
export * from './power.errors';
export * from './power.policy';
export * from './power.control';
export * from './power.settings';
export * from './power-types.catalogue';
export * from './power.runner';
export { planBatchCalls } from './power.batch';
export type { BatchEntry, BatchMember, BatchCall } from './power.batch';
export { runProcess } from './adapters/process.runner';
export type { ProcessRunner, ProcessSpec, ProcessResult } from './adapters/process.runner';
export { httpRequest } from './adapters/http.client';
export type { HttpClient, HttpRequest, HttpResponse } from './adapters/http.client';
export { IpmiDriver } from './drivers/ipmi/ipmi.driver';
export type { IpmiDriverOptions } from './drivers/ipmi/ipmi.driver';
export { IPMI_TYPE, parseIpmiSettings } from './drivers/ipmi/ipmi.settings';
export type { IpmiSettings } from './drivers/ipmi/ipmi.settings';
export type { IpmiTool } from './drivers/ipmi/ipmi.commands';
export { RedfishDriver } from './drivers/redfish/redfish.driver';
export type { RedfishDriverOptions } from './drivers/redfish/redfish.driver';
export { REDFISH_TYPE } from './drivers/redfish/redfish.settings';
export type { RedfishSettings } from './drivers/redfish/redfish.settings';
export { VirshDriver, VIRSH_TYPE } from './drivers/virsh/virsh.driver';
export type { VirshDriverOptions, VirshSettings } from './drivers/virsh/virsh.driver';
export { WebhookDriver, WEBHOOK_TYPE } from './drivers/webhook/webhook.driver';
export type { WebhookDriverOptions, WebhookSettings } from './drivers/webhook/webhook.driver';
export { ManualDriver, MANUAL_TYPE } from './drivers/manual/manual.driver';
// Test support: real IPMI BMCs (OpenIPMI ipmi_sim) for e2e tests and benchmarks of other projects.
export { IpmiSim, startIpmiSims, freeLoopbackAddress, freeLoopbackAddresses, rmcpPingUntilAnswered } from './testing/ipmi-sim.harness';
export type { IpmiSimOptions } from './testing/ipmi-sim.harness';
