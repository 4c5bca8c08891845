/** A kernel uevent (NETLINK_KOBJECT_UEVENT, or read back from sysfs): the fields berth matches on. */
export interface Uevent {
  /** "add", "remove", "change", "bind", … */
  action: string;
  /** The device's path under sysfs, from its root: "/devices/pci0000:00/0000:00:02.0/…". */
  devpath: string;
  subsystem: string;
  /** The node under /dev the kernel made ("vda", "vfio/3"); empty when it has none. */
  devname: string;
  /** A network interface's name (SUBSYSTEM=net); empty otherwise. */
  interface: string;
  /** The kernel's sequence number; 0 for an event read back from sysfs. */
  seqnum: number;
}

/** The largest uevent the kernel sends (UEVENT_BUFFER_SIZE is 2048) with room to spare. */
export const MAX_UEVENT_BYTES = 8192;
const MAX_FIELDS = 64;

/**
 * The uevent in one datagram of the kernel's uevent multicast group: `ACTION@DEVPATH`, then `KEY=VALUE`
 * fields, all NUL-terminated. Undefined for what is not one (udev's "libudev" messages, a datagram cut or
 * too large, a header that disagrees with its ACTION or DEVPATH field): the caller drops it.
 */
export function parseUevent(datagram: Uint8Array): Uevent | undefined {
  if (datagram.length === 0 || datagram.length > MAX_UEVENT_BYTES) return undefined;
  const text = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength).toString("latin1");
  const tokens = text.split("\0");
  if (tokens.at(-1) === "") tokens.pop();
  const header = tokens[0] ?? "";
  const at = header.indexOf("@");
  if (at <= 0 || tokens.length > MAX_FIELDS + 1) return undefined;
  const fields = fieldsOf(tokens.slice(1));
  const action = fields.get("ACTION") ?? header.slice(0, at);
  const devpath = fields.get("DEVPATH") ?? header.slice(at + 1);
  if (action !== header.slice(0, at) || devpath !== header.slice(at + 1) || !devpath.startsWith("/")) {
    return undefined;
  }
  return eventFrom(action, devpath, fields);
}

/**
 * The `add` event a device present now would have sent, from its sysfs `uevent` file (`KEY=VALUE` lines)
 * and the name its `subsystem` link points to.
 */
export function ueventFromSysfs(devpath: string, ueventFile: string, subsystem: string): Uevent {
  const fields = sysfsUeventFields(ueventFile);
  fields.set("SUBSYSTEM", subsystem);
  return eventFrom("add", devpath, fields);
}

/** The KEY=VALUE lines of a sysfs `uevent` file (DEVNAME, DEVTYPE, MAJOR, …), by key. */
export function sysfsUeventFields(ueventFile: string): Map<string, string> {
  return fieldsOf(ueventFile.split("\n", MAX_FIELDS).filter((line) => line !== ""));
}

function fieldsOf(tokens: readonly string[]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const token of tokens) {
    const eq = token.indexOf("=");
    if (eq > 0) fields.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return fields;
}

function eventFrom(action: string, devpath: string, fields: ReadonlyMap<string, string>): Uevent {
  const seqnum = Number(fields.get("SEQNUM") ?? "0");
  return {
    action,
    devpath,
    subsystem: fields.get("SUBSYSTEM") ?? "",
    devname: fields.get("DEVNAME") ?? "",
    interface: fields.get("INTERFACE") ?? "",
    seqnum: Number.isSafeInteger(seqnum) ? seqnum : 0,
  };
}
