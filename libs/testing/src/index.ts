export * from './poll';
export * from './postgres.harness';
export * from './services';
