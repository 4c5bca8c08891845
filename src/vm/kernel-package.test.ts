import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { downloadOf, kernelPackageName, kernelVersionOf } from "./kernel-package.js";

describe("kernel package", () => {
  it("takes the concrete package from apt-cache depends, not a virtual one", () => {
    assert.equal(
      kernelPackageName("linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n"),
      "linux-image-6.1.0-57-amd64",
    );
    assert.equal(
      kernelPackageName(
        "linux-image-amd64\n |Depends: <linux-image-virtual>\n  Depends: linux-image-6.1.0-50-amd64\n",
      ),
      "linux-image-6.1.0-50-amd64",
    );
    assert.throws(
      () => kernelPackageName("linux-image-amd64\n  Recommends: firmware-linux-free\n"),
      (e: unknown) => e instanceof AgentError && e.code === Code.NOT_FOUND,
    );
  });

  it("names the kernel version after linux-image-", () => {
    assert.equal(kernelVersionOf("linux-image-6.1.0-57-amd64"), "6.1.0-57-amd64");
  });

  it("reads the .deb's name, size and checksum from apt-cache show", () => {
    const line = [
      "Package: linux-image-6.1.0-57-amd64",
      "Version: 6.1.192-3",
      "Filename: pool/updates/main/l/linux-signed-amd64/linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb",
      "Size: 70591024",
      "SHA256: 14d219d0",
      "",
    ].join("\n");
    assert.deepEqual(downloadOf(line), {
      file: "linux-image-6.1.0-57-amd64_6.1.192-3_amd64.deb",
      size: 70591024,
      hash: "SHA256:14d219d0",
    });
    assert.throws(
      () => downloadOf(""),
      (e: unknown) => e instanceof AgentError && e.code === Code.NOT_FOUND,
    );
  });
});
