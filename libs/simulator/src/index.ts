/**
 * @kiln/simulator: simulated machines for `kiln simulate` and the benchmarks: an emulated BMC per
 * machine (served for Kiln's webhook power driver) and an agent that speaks the metadata API as
 * Kiln's runner does. No VM, no process per machine.
 */
export * from './oauth.signer';
export * from './multipart.body';
export * from './tar.reader';
export * from './machine.profile';
export * from './script-output.generator';
export * from './cloud-config.reader';
export * from './metadata.client';
export * from './simulated.agent';
export * from './bmc.server';
export * from './kiln-api.client';
export * from './simulation';
