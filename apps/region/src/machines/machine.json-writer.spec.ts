import fc from 'fast-check';
import { writeMachineJson } from './machine.json-writer';
import { machineJson } from './machine.serializer';
import { MachineRecord } from './machines.repository';

const text = fc.string({ maxLength: 12 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });

const record: fc.Arbitrary<MachineRecord> = fc.record({
  row: fc.record({
    id: fc.nat(),
    system_id: fc.stringMatching(/^[0-9a-z]{6}$/),
    hostname: text,
    description: text,
    architecture: text,
    min_hwe_kernel: text,
    hwe_kernel: maybe(text),
    osystem: text,
    distro_series: text,
    cpu_count: fc.nat(64),
    cpu_speed: fc.nat(),
    memory: fc.nat(),
    swap_size: maybe(fc.nat().map(String)),
    status: fc.integer({ min: 0, max: 22 }),
    previous_status: fc.constant(null),
    status_expires: fc.constant(null),
    locked: fc.boolean(),
    power_state: fc.constantFrom('on', 'off', 'unknown', 'error'),
    agent_name: text,
    owner_data: fc.dictionary(text, text),
    error_description: text,
    netboot: fc.boolean(),
    enlisting: fc.boolean(),
    ephemeral_deploy: fc.boolean(),
    hardware_uuid: maybe(text),
    bios_boot_method: maybe(text),
    status_message: maybe(text),
    status_action: maybe(text),
    storage_layout: fc.constant(null),
    hardware_info: fc.constantFrom<Record<string, string>>({}, { system_vendor: 'Dell Inc.', cpu_model: 'Xeon', mainboard_serial: '' }),
    special_filesystems: fc.array(
      fc.record({
        fstype: fc.constantFrom('tmpfs' as const, 'ramfs' as const),
        mount_point: text,
        mount_options: text,
        uuid: text,
        acquired: fc.boolean(),
      }),
      { maxLength: 2 },
    ),
    version: fc.nat(),
    owner_id: maybe(fc.nat()),
    owner: maybe(text),
    domain_id: fc.nat(),
    domain_name: text,
    domain_authoritative: fc.boolean(),
    domain_ttl: maybe(fc.nat()),
    domain_is_default: fc.boolean(),
    zone_id: fc.nat(),
    zone_name: text,
    zone_description: text,
    pool_id: maybe(fc.nat()),
    pool_name: maybe(text),
    pool_description: maybe(text),
    power_type: maybe(text),
    tag_names: maybe(fc.array(text, { maxLength: 3 })),
    render_key: text,
    current_commissioning_script_set_id: maybe(fc.nat()),
    current_testing_script_set_id: maybe(fc.nat()),
    current_installation_script_set_id: maybe(fc.nat()),
    commissioning_status: fc.integer({ min: -1, max: 11 }),
    testing_status: fc.integer({ min: -1, max: 11 }),
    cpu_test_status: fc.integer({ min: -1, max: 11 }),
    memory_test_status: fc.integer({ min: -1, max: 11 }),
    network_test_status: fc.integer({ min: -1, max: 11 }),
    storage_test_status: fc.integer({ min: -1, max: 11 }),
    other_test_status: fc.integer({ min: -1, max: 11 }),
  }),
  interfaces: fc.array(
    fc.record({
      id: fc.nat(),
      machine_id: fc.nat(),
      name: text,
      type: fc.constantFrom('physical', 'bond'),
      mac_address: text,
      enabled: fc.boolean(),
      vendor: maybe(text),
      product: maybe(text),
      firmware_version: maybe(text),
      numa_node: fc.nat(3),
      sriov_max_vf: fc.nat(64),
      link_speed: fc.nat(),
      interface_speed: fc.nat(),
      link_connected: fc.boolean(),
      mtu: fc.nat(),
      tags: fc.array(text, { maxLength: 2 }),
      ip_address: maybe(fc.ipV4()),
      is_boot: fc.boolean(),
    }),
    { maxLength: 3 },
  ),
  blockDevices: fc.array(
    fc.record({
      id: fc.nat(),
      machine_id: fc.nat(),
      name: text,
      type: fc.constantFrom('physical', 'virtual'),
      uuid: maybe(text),
      model: text,
      serial: text,
      id_path: maybe(text),
      size: fc.nat().map(String),
      block_size: fc.nat(),
      tags: fc.array(text, { maxLength: 2 }),
      firmware_version: maybe(text),
      is_boot: fc.boolean(),
      numa_node: fc.nat(3),
    }),
    { maxLength: 3 },
  ),
  numaNodes: fc.array(
    fc.record({ machine_id: fc.nat(), index: fc.nat(7), cores: fc.array(fc.nat(255), { maxLength: 4 }), memory: fc.nat().map(String) }),
    { maxLength: 2 },
  ),
});

describe('writeMachineJson', () => {
  it('writes exactly the document machineJson describes, for any machine', () => {
    fc.assert(
      fc.property(record, (rec) => {
        expect(JSON.parse(writeMachineJson(rec))).toEqual(JSON.parse(JSON.stringify(machineJson(rec))));
      }),
      { numRuns: 500 },
    );
  });
});
