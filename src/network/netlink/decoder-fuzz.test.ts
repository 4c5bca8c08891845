import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lengthFields } from "../../../test/support/netlink-fuzz-datagrams.js";
import { decodeAddress, RTM_NEWADDR } from "./address-message.js";
import {
  type FuzzReport,
  fuzzCases,
  recordedDatagrams,
  startFuzzWorker,
  type WorkerMessage,
} from "./decoder-fuzz.test-util.js";
import { decodeLink, RTM_NEWLINK } from "./link-message.js";
import { decodeNeighbour, RTM_NEWNEIGH } from "./neighbour-message.js";
import { splitMessages } from "./netlink-message.js";
import { decodeRoute, RTM_NEWROUTE } from "./route-message.js";

/** Another seed replays another run: BERTH_FUZZ_SEED=n node --test dist/src/network/netlink/decoder-fuzz.test.js */
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 0x6e6c);
const CASES = 20_000;
const HEAP_MB = 64;
/** Far more than 20,000 cases take on a loaded machine; a decoder that loops runs into it. */
const DEADLINE_MS = 60_000;

function fuzzInWorker(seed: number, cases: number): Promise<FuzzReport> {
  const worker = startFuzzWorker(seed, cases, HEAP_MB);
  let running = 0;
  return new Promise<FuzzReport>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `the fuzz did not end within ${DEADLINE_MS} ms (seed ${seed}, in cases ${running} to ${running + 999})`,
        ),
      );
      void worker.terminate();
    }, DEADLINE_MS);
    worker.on("message", (message: WorkerMessage) => {
      if ("running" in message) running = message.running;
      else {
        clearTimeout(timer);
        resolve(message.report);
      }
    });
    worker.on("error", (error) => {
      clearTimeout(timer);
      reject(
        new Error(`the fuzz worker failed in cases ${running} to ${running + 999} (seed ${seed})`, {
          cause: error,
        }),
      );
    });
    worker.on("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`the fuzz worker exited (${code}) in cases ${running} to ${running + 999} (seed ${seed})`),
      );
    });
  });
}

describe("the rtnetlink decoders under fuzzing", () => {
  const seeds = recordedDatagrams();

  it("decode every recorded datagram whole, each object by its own decoder", () => {
    const decoders = new Map<number, (payload: Buffer) => unknown>([
      [RTM_NEWLINK, decodeLink],
      [RTM_NEWADDR, decodeAddress],
      [RTM_NEWROUTE, decodeRoute],
      [RTM_NEWNEIGH, decodeNeighbour],
    ]);
    let objects = 0;
    for (const datagram of seeds) {
      for (const message of splitMessages(datagram)) {
        const decode = decoders.get(message.type);
        if (decode) {
          decode(message.payload);
          objects++;
        }
      }
    }
    assert.ok(objects > 50, `${objects} objects`);
  });

  it("find the length fields of recorded datagrams to corrupt, nested attributes included", () => {
    const largest = seeds.reduce((a, b) => (b.length > a.length ? b : a));
    const { messages, attributes } = lengthFields(largest);
    assert.ok(messages.length > 1);
    assert.ok(attributes.length > 10 * messages.length);
  });

  it(`take ${CASES} mutated datagrams: each decoded or refused with a NetlinkDecodeError, in bounded time and heap`, async () => {
    const report = await fuzzInWorker(SEED, CASES);
    assert.deepEqual(report.failures, []);
    assert.equal(report.cases, CASES);
    assert.ok(report.decoded > CASES && report.refused > CASES, JSON.stringify(report));
  });

  it("replays one case alone, as a failure names it", () => {
    const report = fuzzCases(seeds, SEED, 1234, 1235);
    assert.equal(report.cases, 1);
    assert.deepEqual(report.failures, []);
  });
});
