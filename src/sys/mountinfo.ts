/** One line of /proc/<pid>/mountinfo. */
export interface MountInfo {
  id: number;
  parentId: number;
  major: number;
  minor: number;
  /** The path inside the filesystem that is mounted (for bind mounts, not always "/"). */
  root: string;
  mountPoint: string;
  options: string;
  fsType: string;
  source: string;
  superOptions: string;
}

/** Undoes the kernel's octal escapes (space as \040, tab, newline, backslash). */
function unescapeField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Parses mountinfo text (proc(5)); malformed lines are skipped. */
export function parseMountinfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    const [id, parentId, devno, root, mountPoint, options] = left;
    const [fsType, source, superOptions] = right;
    const [major, minor] = (devno ?? "").split(":").map(Number);
    if (
      id === undefined ||
      parentId === undefined ||
      root === undefined ||
      mountPoint === undefined ||
      fsType === undefined ||
      major === undefined ||
      minor === undefined
    ) {
      continue;
    }
    mounts.push({
      id: Number(id),
      parentId: Number(parentId),
      major,
      minor,
      root: unescapeField(root),
      mountPoint: unescapeField(mountPoint),
      options: options ?? "",
      fsType,
      source: unescapeField(source ?? ""),
      superOptions: superOptions ?? "",
    });
  }
  return mounts;
}
