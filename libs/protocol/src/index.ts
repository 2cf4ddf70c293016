// @kiln/protocol: DHCPv4 and TFTP codecs, bytes <-> typed values. No sockets, no framework:
// the rack's servers own the sockets and call these (STYLE habits 1, 9, 10).
export * from './errors';
export * from './codec';
export { decodeDomainSearch, DOMAIN_SEARCH_MAX_BYTES, encodeDomainSearch } from './dhcp4/domain-search';

export {
  ClientArch,
  clientArchName,
  decodeEncapsulated,
  DHCP4_OPTION_TABLE,
  DhcpMessageType,
  DhcpOption,
  encodeIpxeOptions,
  formatClientId,
  IpxeFeature,
  IpxeOption,
  isHttpBootArch,
  isIpxeClient,
  userClassStrings,
} from './dhcp4/options';
export type {
  ClasslessRoute,
  ClientMachineId,
  ClientNdi,
  Dhcp4Options,
  Dhcp4OptionSpec,
  Dhcp4OptionType,
  Dhcp4OptionValueTypes,
  RawOption,
  RelayAgentInfo,
  UserClass,
} from './dhcp4/options';
export * from './dhcp4/packet.codec';
export * from './dhcp4/reply.builder';

export * from './tftp/packet.codec';
export * from './tftp/options';
export * from './tftp/path';
