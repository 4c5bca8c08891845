import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseNetDev } from "./net-dev.js";

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:12345678901234 9876543 1 2    0     0          0        17 55555555  44444 3 4    0     0       0          0
 broken: 1 2 3
`;

describe("parseNetDev()", () => {
  it("reads each interface's receive and transmit bytes, packets, errors and drops", () => {
    assert.deepEqual(parseNetDev(NET_DEV), [
      {
        name: "lo",
        rxBytes: 140n,
        rxPackets: 2n,
        rxErrors: 0n,
        rxDropped: 0n,
        txBytes: 140n,
        txPackets: 2n,
        txErrors: 0n,
        txDropped: 0n,
      },
      {
        name: "eth0",
        rxBytes: 12345678901234n,
        rxPackets: 9876543n,
        rxErrors: 1n,
        rxDropped: 2n,
        txBytes: 55555555n,
        txPackets: 44444n,
        txErrors: 3n,
        txDropped: 4n,
      },
    ]);
  });
});
