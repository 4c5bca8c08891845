import { AgentError, Code } from "../errors.js";

/**
 * Where berth listens: a unix socket path, an abstract unix socket, a vsock (cid, port), or a virtio-serial
 * port by its name (Kata 1.x's `agent.channel.0`).
 */
export type ListenAddress =
  | { kind: "unix"; path: string }
  | { kind: "abstract"; name: string }
  | { kind: "vsock"; cid: number; port: number }
  | { kind: "serial"; name: string };

/** An address a stream socket listens on, and a client connects to. */
export type SocketAddress = Exclude<ListenAddress, { kind: "serial" }>;

/** Kata's default: any CID, port 1024. */
export const DEFAULT_ADDRESS = "vsock://-1:1024";

const VMADDR_CID_ANY = 0xffff_ffff;
const MAX_UNIX_PATH = 107;

function invalid(address: string, why: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, `invalid listen address ${JSON.stringify(address)}: ${why}`);
}

function parseUint32(text: string, what: string, address: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff)
    throw invalid(address, `${what} must be 0..4294967295`);
  return Number(text);
}

/**
 * Parses Kata's address syntax: `unix:///abs/path`, `unix://@abstract-name`, `vsock://CID:PORT`
 * (`-1` for any CID, as in Kata's default `vsock://-1:1024`), and berth's `serial://PORT-NAME`.
 */
export function parseListenAddress(address: string): ListenAddress {
  const scheme = /^([a-z]+):\/\/(.*)$/s.exec(address);
  if (!scheme)
    throw invalid(address, "expected unix://PATH, unix://@NAME, vsock://CID:PORT or serial://NAME");
  const [, kind, rest = ""] = scheme;
  if (kind === "unix") {
    if (rest.includes("\0")) throw invalid(address, "it contains a NUL byte");
    if (rest.startsWith("@")) {
      const name = rest.slice(1);
      if (name.length === 0) throw invalid(address, "the abstract socket name is empty");
      if (Buffer.byteLength(name) > MAX_UNIX_PATH - 1)
        throw invalid(address, "the abstract socket name is too long");
      return { kind: "abstract", name };
    }
    if (!rest.startsWith("/")) throw invalid(address, "a unix socket path must be absolute");
    if (Buffer.byteLength(rest) > MAX_UNIX_PATH)
      throw invalid(address, `the path is longer than ${MAX_UNIX_PATH} bytes`);
    return { kind: "unix", path: rest };
  }
  if (kind === "vsock") {
    const parts = /^(-1|\d+):(\d+)$/.exec(rest);
    if (!parts) throw invalid(address, "expected vsock://CID:PORT");
    const [, cidText = "", portText = ""] = parts;
    const cid = cidText === "-1" ? VMADDR_CID_ANY : parseUint32(cidText, "the CID", address);
    return { kind: "vsock", cid, port: parseUint32(portText, "the port", address) };
  }
  if (kind === "serial") {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(rest)) {
      throw invalid(address, "a serial port name is 1 to 64 of A-Z a-z 0-9 . _ -");
    }
    return { kind: "serial", name: rest };
  }
  throw invalid(
    address,
    `unknown scheme ${JSON.stringify(kind)}; berth listens on unix://, vsock:// and serial://`,
  );
}

export function formatListenAddress(address: ListenAddress): string {
  switch (address.kind) {
    case "unix":
      return `unix://${address.path}`;
    case "abstract":
      return `unix://@${address.name}`;
    case "vsock":
      return `vsock://${address.cid === VMADDR_CID_ANY ? -1 : address.cid}:${address.port}`;
    case "serial":
      return `serial://${address.name}`;
  }
}
