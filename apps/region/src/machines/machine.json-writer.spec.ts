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

describe('writeMachineJson with a storage model', () => {
  it('writes the partitions, filesystems and group stubs machineJson describes', () => {
    const [base] = fc.sample(record, { numRuns: 1, seed: 42 });
    const disk = { id: 7, machine_id: base.row.id, name: 'sda', type: 'physical', uuid: null, model: 'M', serial: 'S', id_path: null, size: '100000000000', block_size: 512, tags: [], firmware_version: null, is_boot: true, numa_node: 0 };
    const lv = { ...disk, id: 8, name: 'vg0-lv0', type: 'virtual', uuid: 'u-lv', size: '8388608', is_boot: false, filesystem_group_id: 3 };
    const rec = {
      ...base,
      blockDevices: [disk, lv],
      storage: {
        tables: [{ id: 1, block_device_id: 7, table_type: 'GPT' }],
        partitions: [{ id: 2, partition_table_id: 1, index: 1, uuid: 'u-p', size: '41943040', bootable: false, tags: [] }],
        filesystems: [
          { id: 4, block_device_id: null, partition_id: 2, fstype: 'lvm-pv', uuid: 'u-f', label: null, mount_point: null, mount_options: null, filesystem_group_id: 3, cache_set_id: null },
          { id: 5, block_device_id: 8, partition_id: null, fstype: 'ext4', uuid: 'u-g', label: null, mount_point: '/', mount_options: null, filesystem_group_id: null, cache_set_id: null },
        ],
        groups: [{ id: 3, name: 'vg0', uuid: 'u-vg', group_type: 'lvm-vg', cache_mode: null, cache_set_id: null }],
        cacheSets: [],
      },
    };
    const json = JSON.parse(writeMachineJson(rec));
    expect(json).toEqual(JSON.parse(JSON.stringify(machineJson(rec))));
    expect(json.volume_groups).toEqual([{ system_id: base.row.system_id, id: 3, __incomplete__: true }]);
    expect(json.blockdevice_set[0]).toMatchObject({ used_for: 'GPT partitioned with 1 partition', partitions: [{ used_for: 'LVM volume for vg0' }] });
    expect(json.blockdevice_set[1]).toMatchObject({ used_for: 'ext4 formatted filesystem mounted at /' });
  });
});
