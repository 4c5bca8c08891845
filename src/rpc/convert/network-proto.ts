import type { MessageInitShape } from "@bufbuild/protobuf";
import type { InterfaceText, IpAddressText, NeighbourText, RouteText } from "../../network/network-types.js";
import type {
  ARPNeighbor,
  Interface,
  InterfaceSchema,
  IPAddress,
  Route,
  RouteSchema,
} from "../../protocol/gen/types_pb.js";

/** types.* messages to berth's network objects and back: field for field, pure. */

const addressFromProto = (a: IPAddress): IpAddressText => ({
  family: a.family,
  address: a.address,
  mask: a.mask,
});

export function interfaceFromProto(i: Interface): InterfaceText {
  return {
    device: i.device,
    name: i.name,
    addresses: i.IPAddresses.map(addressFromProto),
    mtu: Number(i.mtu > 0xffffffffn ? 0x100000000n : i.mtu),
    hwAddr: i.hwAddr,
    devicePath: i.devicePath,
    type: i.type,
    rawFlags: i.rawFlags,
  };
}

export function interfaceToProto(i: InterfaceText): MessageInitShape<typeof InterfaceSchema> {
  return {
    device: i.device,
    name: i.name,
    IPAddresses: i.addresses,
    mtu: BigInt(i.mtu),
    hwAddr: i.hwAddr,
    devicePath: i.devicePath,
    type: i.type,
    rawFlags: i.rawFlags,
  };
}

export const routeFromProto = (r: Route): RouteText => ({
  dest: r.dest,
  gateway: r.gateway,
  device: r.device,
  source: r.source,
  scope: r.scope,
  family: r.family,
  flags: r.flags,
  mtu: r.mtu,
});

export const routeToProto = (r: RouteText): MessageInitShape<typeof RouteSchema> => ({ ...r });

export const neighbourFromProto = (n: ARPNeighbor): NeighbourText => ({
  toIpAddress: n.toIPAddress ? addressFromProto(n.toIPAddress) : undefined,
  device: n.device,
  lladdr: n.lladdr,
  state: n.state,
  flags: n.flags,
});
