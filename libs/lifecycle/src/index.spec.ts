import * as lifecycle from './index';

describe('@kiln/lifecycle entry point', () => {
  it('exports the public API', () => {
    for (const name of [
      'NodeStatus',
      'ALL_STATUSES',
      'statusName',
      'statusLabel',
      'parseStatusLabel',
      'simpleStatus',
      'parseSimpleStatusLabel',
      'ScriptStatus',
      'scriptStatusName',
      'NodeType',
      'nodeTypeName',
      'TRANSITIONS',
      'canTransition',
      'invalidTransitionMessage',
      'FAILURE_MAP',
      'MONITORED_STATUSES',
      'COMMISSIONING_LIKE_STATUSES',
      'deadlineMinutes',
      'ACTIONS',
      'decide',
      'availableActions',
    ]) {
      expect(lifecycle).toHaveProperty(name);
    }
  });

  it('does not export the test fixture', () => {
    expect(lifecycle).not.toHaveProperty('REF_STATUS_ROWS');
  });
});
