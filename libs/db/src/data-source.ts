import 'reflect-metadata';
import { DataSource, DataSourceOptions } from 'typeorm';
import { ApiTokenEntity } from './entities/api-token.entity';
import { BlockDeviceEntity } from './entities/block-device.entity';
import { BmcEntity } from './entities/bmc.entity';
import { DomainEntity } from './entities/domain.entity';
import { EffectOutboxEntity } from './entities/effect-outbox.entity';
import { NodeTokenEntity } from './entities/node-token.entity';
import { NumaNodeEntity } from './entities/numa-node.entity';
import { ScriptEntity } from './entities/script.entity';
import { ScriptResultEntity } from './entities/script-result.entity';
import { ScriptSetEntity } from './entities/script-set.entity';
import { ScriptVersionEntity } from './entities/script-version.entity';
import { BootResourceChunkEntity, BootResourceContentEntity, BootResourceEntity, BootResourceFileEntity, BootResourceSetEntity } from './entities/boot-resource.entity';
import { EventEntity } from './entities/event.entity';
import { FabricEntity } from './entities/fabric.entity';
import { IpRangeEntity } from './entities/ip-range.entity';
import { InterfaceEntity } from './entities/interface.entity';
import { InterfaceLinkEntity, InterfaceRelationshipEntity } from './entities/interface-link.entity';
import { MachineTagEntity } from './entities/machine-tag.entity';
import { MachineEntity } from './entities/machine.entity';
import { MachineProbedDetailEntity } from './entities/machine-probed-detail.entity';
import { RackControllerEntity } from './entities/rack-controller.entity';
import { RackEventReceiptEntity } from './entities/rack-event-receipt.entity';
import { RackEnrollmentTokenEntity } from './entities/rack-enrollment-token.entity';
import { ResourcePoolEntity } from './entities/resource-pool.entity';
import { SshKeyEntity } from './entities/ssh-key.entity';
import { StaticIpEntity } from './entities/static-ip.entity';
import { SubnetEntity } from './entities/subnet.entity';
import { TagEntity } from './entities/tag.entity';
import { UserEntity } from './entities/user.entity';
import { VlanEntity } from './entities/vlan.entity';
import { ZoneEntity } from './entities/zone.entity';
import { SpaceEntity } from './entities/space.entity';
import { StaticRouteEntity } from './entities/static-route.entity';
import { DnsDataEntity, DnsResourceEntity } from './entities/dns-resource.entity';
import { DeviceEntity } from './entities/device.entity';
import { RegionControllerEntity } from './entities/region-controller.entity';
import { MIGRATIONS } from './migrations';

export const ENTITIES = [
  UserEntity,
  ApiTokenEntity,
  SshKeyEntity,
  ZoneEntity,
  ResourcePoolEntity,
  DomainEntity,
  TagEntity,
  BmcEntity,
  MachineEntity,
  MachineTagEntity,
  InterfaceEntity,
  InterfaceLinkEntity,
  InterfaceRelationshipEntity,
  BlockDeviceEntity,
  EventEntity,
  RackControllerEntity,
  FabricEntity,
  VlanEntity,
  SubnetEntity,
  IpRangeEntity,
  StaticIpEntity,
  RackEventReceiptEntity,
  RackEnrollmentTokenEntity,
  EffectOutboxEntity,
  ScriptEntity,
  ScriptVersionEntity,
  ScriptSetEntity,
  ScriptResultEntity,
  NumaNodeEntity,
  NodeTokenEntity,
  MachineProbedDetailEntity,
  BootResourceEntity,
  BootResourceSetEntity,
  BootResourceContentEntity,
  BootResourceChunkEntity,
  BootResourceFileEntity,
  SpaceEntity,
  StaticRouteEntity,
  DnsResourceEntity,
  DnsDataEntity,
  DeviceEntity,
  RegionControllerEntity,
];

export interface DatabaseConfig {
  url: string;
  poolSize: number;
}

export function dataSourceOptions(db: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'kiln_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: { max: db.poolSize },
  };
}

export function createDataSource(db: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(db));
}
