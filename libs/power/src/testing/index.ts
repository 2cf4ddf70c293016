// @kiln/power/testing: harnesses for tests and benchmarks only. Real IPMI BMCs (OpenIPMI
// ipmi_sim) and a private libvirtd. Never imported by production code.
export { IpmiSim, startIpmiSims, freeLoopbackAddress, freeLoopbackAddresses, rmcpPingUntilAnswered } from './ipmi-sim.harness';
export type { IpmiSimOptions } from './ipmi-sim.harness';
export { PrivateLibvirtd } from './libvirtd.harness';
export type { VirshResult } from './libvirtd.harness';
