/** Who this rack is: its stable id (from the state directory) and its host name. */
export interface RackIdentity {
  rackId: string;
  hostname: string;
}

export const RACK_IDENTITY = Symbol('RACK_IDENTITY');
