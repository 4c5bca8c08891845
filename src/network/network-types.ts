/**
 * The network objects as Kata's wire carries them (types.proto), in berth's own terms: text addresses,
 * the wire's family numbers. The RPC layer converts to and from protobuf; this module never sees it.
 */

/** IPFamily on the wire. */
export const WIRE_V4 = 0;
export const WIRE_V6 = 1;

export interface IpAddressText {
  family: number;
  address: string;
  /** The prefix length, as decimal text ("24"). */
  mask: string;
}

export interface InterfaceText {
  device: string;
  name: string;
  addresses: IpAddressText[];
  mtu: number;
  hwAddr: string;
  /** The NIC's PCI path ("02/01"), when the host hot-plugged it. */
  devicePath: string;
  type: string;
  rawFlags: number;
}

export interface RouteText {
  /** "addr/len"; "" for a default route. */
  dest: string;
  gateway: string;
  device: string;
  /** A plain address is the preferred source; "addr/len" a source prefix (IPv6 source-specific routing). */
  source: string;
  scope: number;
  family: number;
  flags: number;
  mtu: number;
}

export interface NeighbourText {
  toIpAddress: IpAddressText | undefined;
  device: string;
  lladdr: string;
  state: number;
  flags: number;
}
