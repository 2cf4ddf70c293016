import {
  ALL_STATUSES,
  isNodeStatus,
  NodeStatus,
  NodeType,
  nodeTypeName,
  parseSimpleStatusLabel,
  parseStatusLabel,
  POWER_STATES,
  ScriptStatus,
  scriptStatusName,
  SIMPLE_STATUSES,
  simpleStatus,
  simpleStatusLabel,
  statusesInSimpleGroup,
  statusKey,
  statusLabel,
  statusName,
} from './node-status';
import { REF_STATUS_ROWS } from './maas-reference.fixture';

describe('NodeStatus (reference 1.1)', () => {
  it('has exactly the 23 statuses of the reference, numbered 0..22', () => {
    expect(ALL_STATUSES).toEqual(REF_STATUS_ROWS.map((r) => r[0]));
    expect(Object.keys(NodeStatus)).toHaveLength(23);
  });

  describe.each(REF_STATUS_ROWS.map((r) => [...r]))('%i %s', (int, key, name, group) => {
    const status = int as NodeStatus;

    it('has the right integer for its constant', () => {
      expect(NodeStatus[key as keyof typeof NodeStatus]).toBe(int);
      expect(statusKey(status)).toBe(key);
    });

    it(`displays as "${name}"`, () => {
      expect(statusName(status)).toBe(name);
    });

    it(`has the label "${key.toLowerCase()}" and parses it back`, () => {
      expect(statusLabel(status)).toBe(key.toLowerCase());
      expect(parseStatusLabel(key.toLowerCase())).toBe(int);
    });

    it(`is in the simplified group "${group}"`, () => {
      expect(simpleStatus(status)).toBe(group);
      expect(statusesInSimpleGroup(group as (typeof SIMPLE_STATUSES)[number])).toContain(int);
    });
  });

  it('accepts "default" as an alias of NEW', () => {
    expect(parseStatusLabel('default')).toBe(0);
  });

  it('rejects unknown, display-string and upper-case labels', () => {
    expect(parseStatusLabel('ready ')).toBeUndefined();
    expect(parseStatusLabel('READY')).toBeUndefined();
    expect(parseStatusLabel('Failed testing')).toBeUndefined();
    expect(parseStatusLabel('failed_releasing_x')).toBeUndefined();
    expect(parseStatusLabel('')).toBeUndefined();
  });

  it('spells the two exceptions exactly', () => {
    expect(statusName(13 as NodeStatus)).toBe('Releasing failed');
    expect(statusName(18 as NodeStatus)).toBe('Failed to enter rescue mode');
  });

  it('recognises status integers', () => {
    expect(isNodeStatus(0)).toBe(true);
    expect(isNodeStatus(22)).toBe(true);
    expect(isNodeStatus(23)).toBe(false);
    expect(isNodeStatus(-1)).toBe(false);
    expect(isNodeStatus('4')).toBe(false);
    expect(isNodeStatus(1.5)).toBe(false);
  });
});

describe('simplified status groups', () => {
  const groups: Array<[string, string]> = [
    ['Allocated', 'allocated'],
    ['Broken', 'broken'],
    ['Commissioning', 'commissioning'],
    ['Deployed', 'deployed'],
    ['Deploying', 'deploying'],
    ['Failed', 'failed'],
    ['New', 'new'],
    ['Ready', 'ready'],
    ['Releasing', 'releasing'],
    ['Rescue Mode', 'rescue_mode'],
    ['Testing', 'testing'],
    ['Other', 'other'],
  ];

  it('lists the twelve groups of the reference', () => {
    expect([...SIMPLE_STATUSES].sort()).toEqual(groups.map(([g]) => g).sort());
  });

  it.each(groups)('%s has the filter label %s', (group, label) => {
    expect(simpleStatusLabel(group as (typeof SIMPLE_STATUSES)[number])).toBe(label);
    expect(parseSimpleStatusLabel(label)).toBe(group);
  });

  it('rejects unknown group labels', () => {
    expect(parseSimpleStatusLabel('rescue mode')).toBeUndefined();
    expect(parseSimpleStatusLabel('Rescue Mode')).toBeUndefined();
    expect(parseSimpleStatusLabel('gone')).toBeUndefined();
  });

  it('puts every status in exactly one group', () => {
    const counted = SIMPLE_STATUSES.flatMap((g) => statusesInSimpleGroup(g));
    expect(counted.sort((a, b) => a - b)).toEqual([...ALL_STATUSES]);
  });
});

describe('other enums (reference 1.2)', () => {
  it('has the four power states', () => {
    expect([...POWER_STATES]).toEqual(['on', 'off', 'unknown', 'error']);
  });

  it.each([
    [-1, 'Unknown'],
    [0, 'Pending'],
    [1, 'Running'],
    [2, 'Passed'],
    [3, 'Failed'],
    [4, 'Timed out'],
    [5, 'Aborted'],
    [6, 'Degraded'],
    [7, 'Installing dependencies'],
    [8, 'Failed installing dependencies'],
    [9, 'Skipped'],
    [10, 'Applying custom network configuration'],
    [11, 'Failed to apply custom network configuration'],
  ])('script status %i is "%s"', (int, name) => {
    expect(scriptStatusName(int as ScriptStatus)).toBe(name);
  });

  it('has exactly the script statuses -1..11', () => {
    expect(Object.values(ScriptStatus).sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it.each([
    [0, 'Machine'],
    [1, 'Device'],
    [2, 'Rack controller'],
    [3, 'Region controller'],
    [4, 'Region and rack controller'],
  ])('node type %i is "%s"', (int, name) => {
    expect(nodeTypeName(int as NodeType)).toBe(name);
  });
});
