import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "../errors.js";
import { resolvConfFromLines } from "./dns.js";

describe("resolvConfFromLines()", () => {
  it("writes one line each, newline-terminated", () => {
    assert.equal(
      resolvConfFromLines(["nameserver 10.0.0.2", "search svc.local"]),
      "nameserver 10.0.0.2\nsearch svc.local\n",
    );
  });

  it("refuses a line that would smuggle in another", () => {
    assert.throws(
      () => resolvConfFromLines(["nameserver 1.1.1.1\noptions ndots:99"]),
      (e: { code: Code }) => e.code === Code.INVALID_ARGUMENT,
    );
  });
});
