/** The machine a metadata request speaks for, from the node token it was signed with. */
export interface NodeCaller {
  machineId: number;
  systemId: string;
  tokenKey: string;
  consumerKey: string;
  tokenSecret: string;
  purpose: string;
}
