import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";

/** The mount namespace of init, or of kthreadd (pid 2, always in the initial one) where init's is unreadable. */
function initialMountNamespace(): string {
  for (const pid of [1, 2]) {
    try {
      return readlinkSync(`/proc/${pid}/ns/mnt`);
    } catch {
      // not ours to read: try the next
    }
  }
  throw new Error("cannot read the initial mount namespace from /proc/1 or /proc/2");
}

/** Fails unless this process has a mount namespace of its own: tests that mount never touch the host's. */
export function assertOwnMountNamespace(): void {
  assert.notEqual(
    readlinkSync("/proc/self/ns/mnt"),
    initialMountNamespace(),
    "refusing to mount in the host's mount namespace: run under `unshare --mount --propagation private`",
  );
}
