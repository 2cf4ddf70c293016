// Every schema change is one migration, listed here in order. Never edit one that has landed.
import { InitialSchema1795615956381 } from './1795615956381-InitialSchema';
import { SeedDefaults1795616000000 } from './1795616000000-SeedDefaults';
import { AddMachineRenderRevision1795620000000 } from './1795620000000-AddMachineRenderRevision';
import { AddNetworking1795630000000 } from './1795630000000-AddNetworking';
import { AddMachineStorageConfig1795640000000 } from './1795640000000-AddMachineStorageConfig';
import { AddEffectOutbox1795650000000 } from './1795650000000-AddEffectOutbox';
import { AddRackKeys1795660000000 } from './1795660000000-AddRackKeys';
import { AddRackPowerUnavailable1795670000000 } from './1795670000000-AddRackPowerUnavailable';
import { AddScripts1795680000000 } from './1795680000000-AddScripts';
import { AddMachineCommissioningOptions1795690000001 } from './1795690000001-AddMachineCommissioningOptions';
import { AddMachineScriptStatuses1795690000002 } from './1795690000002-AddMachineScriptStatuses';
import { AddBootResources1795690000003 } from './1795690000003-AddBootResources';
import { AddCommissioningInventory1795690000004 } from './1795690000004-AddCommissioningInventory';
import { AddStorageModel1795700000002 } from './1795700000002-AddStorageModel';
import { AddNetModel1795700000003 } from './1795700000003-AddNetModel';
import { AddSettingsAndSmallHandlers1795700000004 } from './1795700000004-AddSettingsAndSmallHandlers';
import { AddNeighbours1795700000005 } from './1795700000005-AddNeighbours';
import { AddInterfaceModel1795800000010 } from './1795800000010-AddInterfaceModel';
import { AddUserReservedIps1795800000020 } from './1795800000020-AddUserReservedIps';
import { AddMachineReleaseScriptSet1795800000030 } from './1795800000030-AddMachineReleaseScriptSet';
import { AddAllocatableCostIndex1795800000050 } from './1795800000050-AddAllocatableCostIndex';
import { AddBootSources1795800000070 } from './1795800000070-AddBootSources';
import { AddDeviceInterfaces1795800000080 } from './1795800000080-AddDeviceInterfaces';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const MIGRATIONS: Function[] = [
  InitialSchema1795615956381,
  SeedDefaults1795616000000,
  AddMachineRenderRevision1795620000000,
  AddNetworking1795630000000,
  AddMachineStorageConfig1795640000000,
  AddEffectOutbox1795650000000,
  AddRackKeys1795660000000,
  AddRackPowerUnavailable1795670000000,
  AddScripts1795680000000,
  AddMachineCommissioningOptions1795690000001,
  AddMachineScriptStatuses1795690000002,
  AddBootResources1795690000003,
  AddCommissioningInventory1795690000004,
  AddStorageModel1795700000002,
  AddNetModel1795700000003,
  AddSettingsAndSmallHandlers1795700000004,
  AddNeighbours1795700000005,
  AddInterfaceModel1795800000010,
  AddUserReservedIps1795800000020,
  AddMachineReleaseScriptSet1795800000030,
  AddAllocatableCostIndex1795800000050,
  AddBootSources1795800000070,
  AddDeviceInterfaces1795800000080,
];
