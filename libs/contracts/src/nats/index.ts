// The NATS transport for '@kiln/contracts'. Apps import this entry; the contracts themselves stay framework-free.
export * from './contract.bus';
