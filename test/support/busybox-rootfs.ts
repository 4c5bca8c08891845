import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * A container root filesystem made from Debian's busybox-static: /bin/busybox, a link per applet, and
 * the directories runc and the tests expect.
 */
export function makeBusyboxRootfs(dir: string): string {
  for (const d of ["bin", "dev", "proc", "sys", "etc", "tmp", "out", "shared"])
    mkdirSync(join(dir, d), { recursive: true });
  copyFileSync("/bin/busybox", join(dir, "bin/busybox"));
  const applets = execFileSync("/bin/busybox", ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const applet of applets) if (applet !== "busybox") symlinkSync("busybox", join(dir, "bin", applet));
  writeFileSync(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(dir, "etc/group"), "root:x:0:\n");
  return dir;
}
