/**
 * Whether this runc is one whose own files berth reads and writes for the two verbs it then does without a
 * runc process: runc 1.0 to 1.3, read in their sources. Their `runc start` is only the read of the exec
 * FIFO (libcontainer's `exec()`; poststart hooks ran at `runc create`), and their `runc delete` of a
 * stopped container is destroy(): kill what is left in its cgroups when its PID namespace is not its own,
 * remove its cgroups (cgroup_paths of state.json), its Intel RDT group and its state dir, run its
 * poststop hooks. Any other runtime or version: false, and every verb goes through runc.
 */
export function knowsRuncLayout(runcVersionOutput: string): boolean {
  const match = /^runc version (\d+)\.(\d+)\./m.exec(runcVersionOutput);
  return match !== null && match[1] === "1" && Number(match[2]) <= 3;
}
