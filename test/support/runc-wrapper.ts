import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface RuncWrapperOptions {
  /** A verb that hangs instead of running (a runc stuck on a lock or in the kernel). */
  hang?: string;
  /** A verb that runs, then returns only `seconds` later (its work done, its answer late). */
  late?: { verb: string; seconds: number };
  /**
   * A v1 controller whose cgroup `runc delete` leaves behind, empty, as runc 1.1 does when the kernel
   * still answers EBUSY after its 150 ms of retries (it logs and exits 0).
   */
  leaveCgroup?: string;
  /** What `runc --version` answers instead of the real runc's first line (e.g. a runc berth starts by `runc start` and deletes by `runc delete`). */
  version?: string;
}

/**
 * A runc for the agent's `--runc`: the real runc from PATH except for the verbs named. runc's argv
 * starts with the six global flags berth always passes (--root, --log, --log-format), so the verb is $7.
 */
export function runcWrapper(dir: string, o: RuncWrapperOptions): string {
  const cases = [
    ...(o.hang ? [`  ${o.hang}) exec sleep 1000 ;;`] : []),
    ...(o.leaveCgroup
      ? [
          `  delete) eval id=\\\${$#}; cg=$(grep -o '"${o.leaveCgroup}":"[^"]*"' "$2/$id/state.json" | cut -d'"' -f4)`,
          '    runc "$@"; rc=$?; [ -n "$cg" ] && mkdir -p "$cg"; exit $rc ;;',
        ]
      : []),
    ...(o.late ? [`  ${o.late.verb}) runc "$@"; rc=$?; sleep ${o.late.seconds}; exit $rc ;;`] : []),
  ];
  const version = o.version ? [`[ "$1" = --version ] && { echo "runc version ${o.version}"; exit 0; }`] : [];
  const path = join(dir, "runc-wrapper");
  writeFileSync(
    path,
    ["#!/bin/sh", ...version, 'case "$7" in', ...cases, "esac", 'exec runc "$@"', ""].join("\n"),
  );
  chmodSync(path, 0o755);
  return path;
}
