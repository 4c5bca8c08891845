/**
 * One entry of a request's `storages`: what to mount (or create) where in the guest. The generated protobuf
 * `grpc.Storage` satisfies it structurally, so handlers pass wire messages straight through.
 */
export interface StorageSpec {
  /** Selects the driver ("virtio-fs", "ephemeral", "blk", …). */
  driver: string;
  driverOptions: readonly string[];
  /** A device path, a filesystem tag ("kataShared") or a directory, depending on the driver. */
  source: string;
  fstype: string;
  /** mount(8)-style options, plus Kata's own (`fsgid=`, `mode=`, `io.katacontainers.fs-opt.*`). */
  options: readonly string[];
  /** The guest path it appears at; also the key it is reference-counted by. */
  mountPoint: string;
  fsGroup?: { groupId: number; groupChangePolicy: number } | undefined;
  /** Kept until the sandbox ends, even when no container uses it any more. */
  shared: boolean;
}

/** `types.FSGroupChangePolicy`. */
export const FsGroupChangePolicy = { ALWAYS: 0, ON_ROOT_MISMATCH: 1 } as const;
