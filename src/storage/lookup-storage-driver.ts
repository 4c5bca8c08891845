import { AgentError, Code } from "../errors.js";
import { bindDriver } from "./bind-driver.js";
import { blockDriver } from "./block-driver.js";
import { ephemeralDriver } from "./ephemeral-driver.js";
import { localDriver } from "./local-driver.js";
import { overlayfsDriver } from "./overlayfs-driver.js";
import { ninePDriver, virtioFsDriver } from "./shared-fs-driver.js";
import type { StorageDriver } from "./storage-driver.js";
import { watchableBindDriver } from "./watchable-bind-driver.js";

const DRIVERS: readonly StorageDriver[] = [
  localDriver,
  ephemeralDriver,
  virtioFsDriver,
  ninePDriver,
  bindDriver,
  blockDriver,
  overlayfsDriver,
  watchableBindDriver,
];

const BY_NAME: ReadonlyMap<string, StorageDriver> = new Map(
  DRIVERS.flatMap((d) => d.names.map((n) => [n, d])),
);

/** The wire's driver strings berth handles, sorted. */
export const storageDriverNames: readonly string[] = [...BY_NAME.keys()].sort();

/** The driver for the wire's `driver` string; INVALID_ARGUMENT naming the known ones otherwise. */
export function lookupStorageDriver(name: string): StorageDriver {
  const driver = BY_NAME.get(name);
  if (!driver) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `unknown storage driver ${JSON.stringify(name)} (known: ${storageDriverNames.join(", ")})`,
    );
  }
  return driver;
}
