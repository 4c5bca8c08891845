import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { formatIp, parseIp, sameBytes } from "./ip-address.js";
import { ignoreGone, unwindAfter } from "./link-state.js";
import { type Neighbour, NUD_PERMANENT } from "./netlink/neighbour-message.js";
import type { Rtnl } from "./netlink/rtnl.js";
import type { NeighbourText } from "./network-types.js";
import { linkNameNotFound } from "./route-plan.js";

const MAX_NEIGHBOURS = 4096;
const MAX_LINK_ADDRESS_BYTES = 32;

const invalid = (message: string) => new AgentError(Code.INVALID_ARGUMENT, message);

function parseLinkAddress(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$/.test(text)) return undefined;
  const bytes = Uint8Array.from(text.split(":"), (h) => Number.parseInt(h, 16));
  return bytes.length <= MAX_LINK_ADDRESS_BYTES ? bytes : undefined;
}

/** One AddARPNeighbors entry as the neighbour it asks for; state 0 means permanent, as in Kata. */
export function planNeighbour(
  text: NeighbourText,
  linkIndex: (name: string) => number | undefined,
): Neighbour {
  const address = text.toIpAddress?.address ?? "";
  const shown = `${address || "(no address)"} dev ${text.device || "(none)"}`;
  if (address === "") throw invalid(`neighbour ${shown} has no IP address`);
  const ip = parseIp(address);
  if (!ip) throw invalid(`neighbour ${shown}: ${JSON.stringify(address)} is not an IP address`);
  if (text.device === "") throw invalid(`neighbour ${shown} names no device`);
  const index = linkIndex(text.device);
  if (index === undefined) throw new AgentError(Code.NOT_FOUND, linkNameNotFound(text.device));
  const lladdr = text.lladdr === "" ? undefined : parseLinkAddress(text.lladdr);
  if (text.lladdr !== "" && !lladdr)
    throw invalid(`neighbour ${shown}: lladdr ${JSON.stringify(text.lladdr)} is not a link-layer address`);
  if (!Number.isInteger(text.state) || text.state < 0 || text.state > 0xffff) {
    throw invalid(`neighbour ${shown}: state ${text.state} is not a NUD_* value`);
  }
  if (!Number.isInteger(text.flags) || text.flags < 0 || text.flags > 0xff) {
    throw invalid(`neighbour ${shown}: flags ${text.flags} are not NTF_* bits`);
  }
  return {
    family: ip.family,
    index,
    state: text.state === 0 ? NUD_PERMANENT : text.state,
    flags: text.flags,
    type: 0,
    dst: ip.bytes,
    ...(lladdr ? { lladdr } : {}),
  };
}

export function planNeighbours(
  texts: readonly NeighbourText[],
  linkIndex: (name: string) => number | undefined,
): Neighbour[] {
  if (texts.length > MAX_NEIGHBOURS) throw invalid(`${texts.length} neighbours, more than ${MAX_NEIGHBOURS}`);
  return texts.map((t) => planNeighbour(t, linkIndex));
}

const sameEntry = (a: Neighbour, b: Neighbour) =>
  a.family === b.family && a.index === b.index && sameBytes(a.dst, b.dst);

/** Adds (or replaces) each neighbour; a failure (or an abort) puts back every entry as it was. */
export async function addNeighbours(
  rtnl: Rtnl,
  planned: readonly Neighbour[],
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const before = await rtnl.neighbours();
  const undo = new CleanupStack();
  try {
    for (const neighbour of planned) {
      throwIfAborted(signal);
      const old = before.find((b) => sameEntry(b, neighbour));
      await rtnl.replaceNeighbour(neighbour).catch((error: unknown) => {
        throw AgentError.wrap(error, `cannot add neighbour ${formatIp(neighbour.dst)}`);
      });
      undo.push(`restore neighbour ${formatIp(neighbour.dst)}`, () =>
        old ? rtnl.replaceNeighbour(old) : ignoreGone(rtnl.deleteNeighbour(neighbour)),
      );
    }
  } catch (error) {
    throw await unwindAfter(undo, error, log);
  }
}
