import { access } from "node:fs/promises";

/** Whether `path` names something (a dangling symlink does not). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
