// Region <-> rack contracts. Framework-free: zod schemas and pure functions only.
// The NATS transport is a separate entry, '@kiln/contracts/nats', imported by apps.
export * from './contract';
export * from './net.schema';
export * from './boot-architectures';
export * from './crypto/sealed-box';
export * from './crypto/message-signature';
export * from './rack-registration.contract';
export * from './boot-config.contract';
export * from './boot-images.contract';
export * from './dhcp-config.contract';
export * from './dhcp-config.ops';
export * from './rack-events.contract';
export * from './power.contract';
export * from './bus-permissions';
export * from './rack-enrollment.contract';
