import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runCommand } from "./support/run-command.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const GEN = "src/protocol/gen";

describe("generated protobuf code", () => {
  it("is what `npm run gen:proto` makes from proto/ today", async () => {
    const out = mkdtempSync(join(tmpdir(), "berth-gen-"));
    try {
      const bin = join(REPO, "node_modules/.bin");
      const args = ["generate", REPO, "--template", join(REPO, "buf.gen.yaml"), "--output", out];
      const result = await runCommand(join(bin, "buf"), args, {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      });
      assert.equal(result.code, 0, result.stderr);
      const committed = readdirSync(join(REPO, GEN)).sort();
      assert.deepEqual(readdirSync(join(out, GEN)).sort(), committed);
      for (const file of committed) {
        assert.equal(
          readFileSync(join(out, GEN, file), "utf8"),
          readFileSync(join(REPO, GEN, file), "utf8"),
          `${GEN}/${file} is stale: run npm run gen:proto and commit the result`,
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
