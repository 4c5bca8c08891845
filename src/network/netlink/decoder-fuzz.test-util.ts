import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { fuzzedDatagram } from "../../../test/support/netlink-fuzz-datagrams.js";
import { createPrng } from "../../../test/support/prng.js";
import { decodeAddress } from "./address-message.js";
import {
  type AddressesFixture,
  type ChangesFixture,
  datagramsOf,
  type Exchange,
  fixture,
  hex,
  type LinksFixture,
  type NeighboursFixture,
  type RoutesFixture,
} from "./fixtures.test-util.js";
import { decodeLink } from "./link-message.js";
import { decodeNeighbour } from "./neighbour-message.js";
import {
  HEADER_BYTES,
  NetlinkDecodeError,
  type NetlinkMessage,
  NLM_F_ACK,
  NLMSG_DONE,
  NLMSG_ERROR,
  splitMessages,
  statusOf,
} from "./netlink-message.js";
import { decodeRoute } from "./route-message.js";

/** Every datagram recorded (dumps, gets, acks, refusals) and every request berth sent: the fuzz's seeds. */
export function recordedDatagrams(): Buffer[] {
  const links = fixture<LinksFixture>("links");
  const changes = fixture<ChangesFixture>("changes");
  const exchanges: Exchange[] = [
    links.dump,
    links.get.veth0,
    links.get.missing,
    fixture<AddressesFixture>("addresses").dump,
    fixture<RoutesFixture>("routes").dump,
    fixture<NeighboursFixture>("neighbours").dump,
    ...changes.accepted,
    ...changes.refused,
  ];
  return exchanges.flatMap((e) => [hex(e.request), ...datagramsOf(e)]);
}

/** The bytes a decoded value holds: what it copied out of the datagram. */
function retainedBytes(value: unknown): number {
  if (value instanceof Uint8Array) return value.length;
  if (typeof value === "string") return Buffer.byteLength(value);
  if (typeof value !== "object" || value === null) return 0;
  return Object.values(value).reduce((n: number, v) => n + retainedBytes(v), 0);
}

export interface FuzzReport {
  cases: number;
  messages: number;
  /** Calls that returned a value, and calls refused with a NetlinkDecodeError. */
  decoded: number;
  refused: number;
  /** Calls that threw anything else or returned more than their input: each names its case. */
  failures: string[];
}

const DECODERS: [string, (payload: Buffer) => unknown][] = [
  ["decodeLink", decodeLink],
  ["decodeAddress", decodeAddress],
  ["decodeRoute", decodeRoute],
  ["decodeNeighbour", decodeNeighbour],
];

/**
 * Cases `from` to `to` of seed `seed` (each case its own PRNG, so one can be replayed alone): a datagram
 * fuzzed from `seeds`, through splitMessages, then every message's payload (and the whole datagram) through
 * every decoder and statusOf, the latter also as an NLMSG_ERROR with extended-ack flags and as an NLMSG_DONE.
 */
export function fuzzCases(seeds: readonly Buffer[], seed: number, from: number, to: number): FuzzReport {
  const report: FuzzReport = { cases: 0, messages: 0, decoded: 0, refused: 0, failures: [] };
  for (let n = from; n < to; n++) {
    const datagram = fuzzedDatagram(createPrng((seed + Math.imul(n, 0x9e3779b1)) >>> 0), seeds);
    const call = (what: string, input: number, fn: () => unknown) => {
      try {
        const value = fn();
        report.decoded++;
        if (retainedBytes(value) > input)
          report.failures.push(`case ${n}: ${what} returned more than its input`);
        return value;
      } catch (error) {
        if (error instanceof NetlinkDecodeError) {
          report.refused++;
          return undefined;
        }
        const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        report.failures.push(
          `case ${n} (seed ${seed}): ${what} threw ${text}; datagram ${datagram.toString("hex")}`,
        );
        return undefined;
      }
    };
    report.cases++;
    const messages = call("splitMessages", datagram.length, () => splitMessages(datagram)) as
      | NetlinkMessage[]
      | undefined;
    if (messages && messages.length > datagram.length / HEADER_BYTES) {
      report.failures.push(`case ${n}: ${messages.length} messages out of ${datagram.length} bytes`);
    }
    const whole: NetlinkMessage = { type: NLMSG_ERROR, flags: 0x300, seq: 0, port: 0, payload: datagram };
    for (const message of [...(messages ?? []), whole]) {
      report.messages++;
      const size = message.payload.length;
      for (const [name, decode] of DECODERS) call(name, size, () => decode(message.payload));
      for (const variant of [
        message,
        { ...message, type: NLMSG_ERROR },
        { ...message, type: NLMSG_ERROR, flags: message.flags | 0x200 },
        { ...message, type: NLMSG_ERROR, flags: NLM_F_ACK | 0x300 },
        { ...message, type: NLMSG_DONE },
      ]) {
        call(`statusOf(type ${variant.type}, flags ${variant.flags})`, size, () => {
          const status = statusOf(variant);
          return status?.kernelMessage;
        });
      }
    }
    if (report.failures.length >= 20) break;
  }
  return report;
}

const MARK = "berth-netlink-decoder-fuzz";

interface WorkerInput {
  [MARK]: true;
  seed: number;
  cases: number;
}

/** `running`: the first of the (up to) 1000 cases the worker is on now. */
export type WorkerMessage = { running: number } | { report: FuzzReport };

/**
 * Runs `cases` in a worker thread of bounded heap, so that a decoder that loops for ever can be stopped (and
 * named by the cases it was on) and one that allocates without bound runs out of memory there.
 */
export function startFuzzWorker(seed: number, cases: number, heapMb: number): Worker {
  const input: WorkerInput = { [MARK]: true, seed, cases };
  return new Worker(new URL(import.meta.url), {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16 },
  });
}

if (!isMainThread && parentPort && (workerData as Partial<WorkerInput> | undefined)?.[MARK]) {
  const { seed, cases } = workerData as WorkerInput;
  const seeds = recordedDatagrams();
  const total: FuzzReport = { cases: 0, messages: 0, decoded: 0, refused: 0, failures: [] };
  const step = 1000;
  for (let from = 0; from < cases && total.failures.length < 20; from += step) {
    parentPort.postMessage({ running: from } satisfies WorkerMessage);
    const part = fuzzCases(seeds, seed, from, Math.min(cases, from + step));
    total.cases += part.cases;
    total.messages += part.messages;
    total.decoded += part.decoded;
    total.refused += part.refused;
    total.failures.push(...part.failures);
  }
  parentPort.postMessage({ report: total } satisfies WorkerMessage);
}
