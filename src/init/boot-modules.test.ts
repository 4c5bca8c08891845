import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { modulesListed } from "./boot-modules.js";

describe("modulesListed()", () => {
  it("reads one module a line, skipping blanks and both kinds of comment", () => {
    assert.deepEqual(modulesListed("# drivers\nvirtio_console\n\n  9pnet_virtio  \n; old\noverlay\n"), [
      "virtio_console",
      "9pnet_virtio",
      "overlay",
    ]);
  });
});
