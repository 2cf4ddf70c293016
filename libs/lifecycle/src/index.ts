/**
 * @kiln/lifecycle: machine statuses, the transition table, actions and the decision function.
 * Pure TypeScript: no framework, no I/O.
 */
export * from './node-status';
export * from './transitions.table';
export * from './actions.table';
export * from './decision.types';
export * from './decide';
export * from './permissions';
