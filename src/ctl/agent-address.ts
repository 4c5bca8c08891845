import { formatListenAddress, parseListenAddress, type SocketAddress } from "../transport/address.js";
import { UsageError } from "./ctl-error.js";

/**
 * Where berthctl looks when neither --addr nor the environment says: the agent's own default listen
 * address (Kata's vsock port 1024) as seen from inside the same VM (CID 1, the local CID).
 */
export const DEFAULT_CTL_ADDRESS = "vsock://1:1024";

const VMADDR_CID_ANY = 0xffff_ffff;
const VMADDR_CID_LOCAL = 1;

/** The agent's address and where berthctl got it, for error messages. */
export interface AgentAddress {
  address: SocketAddress;
  text: string;
  source: "--addr" | "BERTH_ADDR" | "KATA_AGENT_SERVER_ADDR" | "the default";
}

/**
 * The address to connect to: --addr, else $BERTH_ADDR, else $KATA_AGENT_SERVER_ADDR (the agent's own
 * variable, so a shell that starts the agent also finds it), else {@link DEFAULT_CTL_ADDRESS}. A vsock
 * address with any CID (-1, as in the agent's listen address) means this VM: CID 1.
 */
export function resolveAgentAddress(flag: string | undefined, env: NodeJS.ProcessEnv): AgentAddress {
  const [text, source] = pick(flag, env);
  let address: SocketAddress;
  try {
    const parsed = parseListenAddress(text);
    if (parsed.kind === "serial") {
      throw new Error(
        `invalid agent address ${JSON.stringify(text)}: a serial port is the guest's end; connect to the socket berth-vm serves it on`,
      );
    }
    address = parsed;
  } catch (error) {
    const message = (error as Error).message.replace("listen address", "agent address");
    throw new UsageError(`${message} (from ${source}); ${ADDRESS_FORMS}`);
  }
  if (address.kind === "vsock" && address.cid === VMADDR_CID_ANY)
    address = { ...address, cid: VMADDR_CID_LOCAL };
  return { address, text: formatListenAddress(address), source };
}

export const ADDRESS_FORMS = "addresses are unix:///path, unix://@abstract-name or vsock://CID:PORT";

function pick(flag: string | undefined, env: NodeJS.ProcessEnv): [string, AgentAddress["source"]] {
  if (flag !== undefined) return [flag, "--addr"];
  if (env.BERTH_ADDR) return [env.BERTH_ADDR, "BERTH_ADDR"];
  if (env.KATA_AGENT_SERVER_ADDR) return [env.KATA_AGENT_SERVER_ADDR, "KATA_AGENT_SERVER_ADDR"];
  return [DEFAULT_CTL_ADDRESS, "the default"];
}

/** "cannot reach the agent at ..." with how to point berthctl elsewhere. */
export function unreachableMessage(target: AgentAddress, why: string): string {
  const from = target.source === "the default" ? "the default address" : `from ${target.source}`;
  return (
    `cannot reach the agent at ${target.text} (${from}): ${why}; ` +
    `give --addr ADDR or set BERTH_ADDR (${ADDRESS_FORMS})`
  );
}
