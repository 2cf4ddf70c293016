export * from './poll';
export * from './postgres.harness';
export * from './services';
export * from './nats-server.harness';
export * from './ports';
