import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { knowsRuncLayout } from "./runc-layout.js";

const version = (v: string) => `runc version ${v}\ncommit: x\nspec: 1.0.2-dev\ngo: go1.19.8\n`;

describe("knowsRuncLayout", () => {
  it("holds for the runc versions whose start and delete were read (1.0 to 1.3), no other", () => {
    for (const v of ["1.0.0-rc95", "1.0.3", "1.1.5+ds1", "1.2.0", "1.3.5"])
      assert.ok(knowsRuncLayout(version(v)), v);
    for (const v of ["1.4.0", "2.0.0", "0.1.1"]) assert.ok(!knowsRuncLayout(version(v)), v);
    assert.ok(!knowsRuncLayout("crun version 1.8.1\n"));
    assert.ok(!knowsRuncLayout(""));
  });
});
