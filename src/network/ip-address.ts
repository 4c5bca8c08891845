/** IP addresses and prefixes as text (what the wire carries) and as bytes (what netlink carries). Pure. */

export const AF_INET = 2;
export const AF_INET6 = 10;

export type Family = typeof AF_INET | typeof AF_INET6;

export interface IpAddress {
  family: Family;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface IpPrefix extends IpAddress {
  length: number;
}

export const maxPrefix = (family: Family) => (family === AF_INET ? 32 : 128);

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (const [i, part] of parts.entries()) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes[i] = n;
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const part of text.split(":")) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
    groups.push(Number.parseInt(part, 16));
  }
  return groups;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  let head = text;
  let tail4: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    tail4 = parseIpv4(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const left = parseGroups(halves[0] ?? "");
  const right = halves.length === 2 ? parseGroups(halves[1] ?? "") : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const bytes = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  }
  if (tail4) bytes.set(tail4, 12);
  return bytes;
}

/** An IPv4 or IPv6 address in its usual text forms; undefined for anything else (zones, prefixes, spaces). */
export function parseIp(text: string): IpAddress | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: AF_INET, bytes: v4 };
  const v6 = text.includes(":") ? parseIpv6(text) : undefined;
  return v6 ? { family: AF_INET6, bytes: v6 } : undefined;
}

/** "addr/len" (or a bare address, as its full-length prefix); undefined when either part is not valid. */
export function parsePrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf("/");
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  if (slash < 0) return { ...address, length: maxPrefix(address.family) };
  const length = parsePrefixLength(text.slice(slash + 1), address.family);
  return length === undefined ? undefined : { ...address, length };
}

/** A prefix length in decimal, within the family's bits; undefined otherwise. */
export function parsePrefixLength(text: string, family: Family): number | undefined {
  if (!/^(0|[1-9]\d{0,2})$/.test(text)) return undefined;
  const n = Number(text);
  return n <= maxPrefix(family) ? n : undefined;
}

/** An address as inet_ntop writes it (RFC 5952 for IPv6: lowercase, the longest zero run as "::"). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (bytes.length !== 16) return Buffer.from(bytes).toString("hex");
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j;
  }
  if (best.length < 2) best = { start: -1, length: 0 };
  const embeddedV4 = best.start === 0 && (best.length === 6 || (best.length === 5 && groups[5] === 0xffff));
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best.start) {
      out += "::";
      i += best.length - 1;
      continue;
    }
    const separator = out === "" || out.endsWith(":") ? "" : ":";
    if (embeddedV4 && i === 6) return `${out}${separator}${Array.from(bytes.subarray(12)).join(".")}`;
    out += `${separator}${(groups[i] ?? 0).toString(16)}`;
  }
  return out;
}

export const familyOf = (bytes: Uint8Array): Family => (bytes.length === 4 ? AF_INET : AF_INET6);

/** The prefix's network part: host bits cleared. */
export function networkOf(prefix: IpPrefix): Uint8Array {
  const out = Uint8Array.from(prefix.bytes);
  for (let bit = prefix.length; bit < out.length * 8; bit++) {
    const i = bit >> 3;
    out[i] = (out[i] ?? 0) & ~(0x80 >> (bit & 7));
  }
  return out;
}

export const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a === b || (a !== undefined && b !== undefined && Buffer.compare(a, b) === 0);

/** A MAC (or other link-layer) address as six colon-separated hex pairs; undefined otherwise. */
export function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) return undefined;
  return Uint8Array.from(text.split(":"), (h) => Number.parseInt(h, 16));
}

/** A link-layer address as `ip` shows it: lowercase hex pairs joined by colons. */
export const formatMac = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
