import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code, codeFromErrno, codeName } from "./errors.js";

const errno = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("AgentError.from()", () => {
  it("keeps an AgentError as it is", () => {
    const e = new AgentError(Code.NOT_FOUND, "gone");
    assert.equal(AgentError.from(e), e);
  });

  it("keeps the status code an error already carries (a protocol's own errors)", () => {
    const deadline = Object.assign(new Error("deadline exceeded after 1ms"), { code: 4 });
    const e = AgentError.from(deadline);
    assert.equal(e.code, Code.DEADLINE_EXCEEDED);
    assert.equal(e.cause, deadline);
  });

  it("chooses the code of a system error by its errno, and INTERNAL for anything else", () => {
    assert.equal(AgentError.from(errno("ENOENT")).code, Code.NOT_FOUND);
    assert.equal(AgentError.from(errno("EMFILE")).code, Code.RESOURCE_EXHAUSTED);
    assert.equal(AgentError.from(errno("EWHATEVER")).code, Code.INTERNAL);
    assert.equal(AgentError.from(Object.assign(new Error("x"), { code: 99 })).code, Code.INTERNAL);
    assert.equal(AgentError.from(new Error("plain")).code, Code.INTERNAL);
    assert.equal(AgentError.from("a string").code, Code.INTERNAL);
  });

  it("makes an abort CANCELLED", () => {
    assert.equal(AgentError.from(new DOMException("stop", "AbortError")).code, Code.CANCELLED);
  });
});

describe("AgentError.wrap()", () => {
  it("puts what was being done in front, keeping the code and the cause", () => {
    const cause = errno("EACCES", "EACCES: permission denied, open '/x'");
    const e = AgentError.wrap(cause, "cannot read /x");
    assert.equal(e.code, Code.PERMISSION_DENIED);
    assert.equal(e.message, "cannot read /x: EACCES: permission denied, open '/x'");
    assert.equal(e.cause, cause);
  });
});

describe("codes", () => {
  it("names codes, and numbers outside the set", () => {
    assert.equal(codeName(Code.UNAVAILABLE), "UNAVAILABLE");
    assert.equal(codeName(42), "CODE(42)");
    assert.equal(codeFromErrno("ETIMEDOUT"), Code.DEADLINE_EXCEEDED);
  });
});
