import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { MAX_SEED_BYTES, randomHex, reseedKernelRandom } from "./random.js";

describe("randomHex", () => {
  it("gives the bytes asked for, different each time", () => {
    const a = randomHex(8);
    assert.match(a, /^[0-9a-f]{16}$/);
    assert.notEqual(randomHex(8), a);
    assert.equal(randomHex(0), "");
  });
});

describe("reseedKernelRandom", () => {
  it("refuses no data and a flood with INVALID_ARGUMENT, before any ioctl", () => {
    assert.throws(() => reseedKernelRandom(new Uint8Array(0)), { code: Code.INVALID_ARGUMENT });
    assert.throws(() => reseedKernelRandom(new Uint8Array(MAX_SEED_BYTES + 1)), {
      code: Code.INVALID_ARGUMENT,
      message: /65537 bytes .* more than the 65536 accepted/,
    });
  });

  it("reseeds the kernel's CRNG with the host's bytes, as root", () => {
    reseedKernelRandom(Buffer.from(randomHex(512), "hex"));
  });
});
