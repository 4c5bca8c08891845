import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { checkContainerId, MAX_CONTAINER_ID_LENGTH } from "./container-id.js";

function rejects(id: string, message: RegExp, what?: string) {
  assert.throws(
    () => checkContainerId(id, what),
    (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && message.test(e.message),
  );
}

describe("checkContainerId()", () => {
  const hex64 = "4f2c0a1b9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

  for (const id of ["ab", "a.b-c_d", hex64, "0-", "Z9", "a".repeat(MAX_CONTAINER_ID_LENGTH)]) {
    it(`accepts ${JSON.stringify(id.length > 20 ? `${id.slice(0, 20)}…` : id)}`, () => {
      checkContainerId(id);
    });
  }

  for (const id of [
    "",
    "a",
    ".ab",
    "-ab",
    "_ab",
    "a/b",
    "..",
    "a b",
    "ab\n",
    "café",
    "ab\u0000",
    "a:b",
    "ａb",
  ]) {
    it(`rejects ${JSON.stringify(id)}, quoting it`, () => {
      rejects(id, new RegExp(`^invalid container id ${quoteRegExp(JSON.stringify(id))}: it must be`));
    });
  }

  it("rejects an id longer than one path component, quoting only its start", () => {
    const id = "b".repeat(MAX_CONTAINER_ID_LENGTH + 1);
    rejects(id, new RegExp(`^container id "${"b".repeat(64)}"… is 256 characters long; the limit is 255$`));
  });

  it("names the id in the message as the caller asks", () => {
    rejects("a", /^invalid exec id "a"/, "exec id");
  });
});

function quoteRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
