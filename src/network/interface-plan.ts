import { AgentError, Code } from "../errors.js";
import {
  AF_INET6,
  type Family,
  formatIp,
  maxPrefix,
  parseIp,
  parseMac,
  parsePrefixLength,
} from "./ip-address.js";
import { IFF_NOARP } from "./netlink/link-message.js";
import { type InterfaceText, type IpAddressText, WIRE_V4, WIRE_V6 } from "./network-types.js";

/** IFNAMSIZ less its NUL. */
const MAX_NAME_BYTES = 15;
/** More addresses than any pod has: a bound on the work one request asks for. */
const MAX_ADDRESSES = 256;

export interface PlannedAddress {
  family: Family;
  bytes: Uint8Array;
  prefixLength: number;
}

/** An UpdateInterface request, checked: nothing in it can fail to parse once this is made. */
export interface InterfacePlan {
  mac: Uint8Array;
  /** The name the link must have; undefined keeps its own. */
  name: string | undefined;
  /** undefined keeps the link's MTU. */
  mtu: number | undefined;
  noArp: boolean;
  addresses: PlannedAddress[];
  devicePath: string;
}

const invalid = (message: string) => new AgentError(Code.INVALID_ARGUMENT, message);

/** The kernel's rule for a link name (dev_valid_name): 1–15 bytes, not "." or "..", no "/", ":" or space. */
export function checkLinkName(name: string): void {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw invalid(`interface name ${JSON.stringify(name)} is longer than ${MAX_NAME_BYTES} bytes`);
  }
  if (name === "." || name === ".." || /[/:\s\0]/.test(name)) {
    throw invalid(`interface name ${JSON.stringify(name)} is not a valid link name`);
  }
}

export function planAddress(text: IpAddressText): PlannedAddress {
  const shown = `${text.address}/${text.mask}`;
  if (text.family !== WIRE_V4 && text.family !== WIRE_V6) {
    throw invalid(`address ${JSON.stringify(shown)} has family ${text.family}, neither v4 (0) nor v6 (1)`);
  }
  const ip = parseIp(text.address);
  if (!ip) throw invalid(`address ${JSON.stringify(text.address)} is not an IP address`);
  // family v4 is also the wire's default: only an explicit v6 is held against an IPv4 address.
  if (text.family === WIRE_V6 && ip.family !== AF_INET6) {
    throw invalid(`address ${JSON.stringify(text.address)} is IPv4 but its family is v6`);
  }
  const prefixLength = parsePrefixLength(text.mask, ip.family);
  if (prefixLength === undefined) {
    throw invalid(
      `address ${JSON.stringify(shown)} has mask ${JSON.stringify(text.mask)}, not a prefix length 0–${maxPrefix(ip.family)}`,
    );
  }
  return { family: ip.family, bytes: ip.bytes, prefixLength };
}

export const addressKey = (a: { bytes: Uint8Array; prefixLength: number }) =>
  `${formatIp(a.bytes)}/${a.prefixLength}`;

export function planInterface(request: InterfaceText): InterfacePlan {
  if (request.hwAddr === "") throw invalid("the interface has no hwAddr (the link is found by its MAC)");
  const mac = parseMac(request.hwAddr);
  if (!mac) throw invalid(`hwAddr ${JSON.stringify(request.hwAddr)} is not a MAC address`);
  if (request.name !== "") checkLinkName(request.name);
  if (request.mtu > 0xffffffff) throw invalid(`mtu ${request.mtu} is out of range`);
  if (request.addresses.length > MAX_ADDRESSES) {
    throw invalid(`${request.addresses.length} addresses, more than ${MAX_ADDRESSES}`);
  }
  const addresses = new Map<string, PlannedAddress>();
  for (const text of request.addresses) {
    const address = planAddress(text);
    addresses.set(addressKey(address), address);
  }
  return {
    mac,
    name: request.name === "" ? undefined : request.name,
    mtu: request.mtu === 0 ? undefined : request.mtu,
    noArp: (request.rawFlags & IFF_NOARP) !== 0,
    addresses: [...addresses.values()],
    devicePath: request.devicePath,
  };
}
