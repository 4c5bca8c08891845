/**
 * A grpc.Health/Check call as containerd/ttrpc 1.1.1 sends and answers it, captured with strace
 * (shared/reference/interop-tools.md §1.7).
 */
export const GOLDEN_CHECK_REQUEST = Buffer.from(
  "0000001a000000010100" +
    "0a0b" +
    Buffer.from("grpc.Health").toString("hex") +
    "1205" +
    Buffer.from("Check").toString("hex") +
    "20b5a5aea025",
  "hex",
);

export const GOLDEN_CHECK_RESPONSE = Buffer.from("00000004000000010200" + "12020801", "hex");

/** The timeout the captured client set: about 10 s, from its context deadline. */
export const GOLDEN_TIMEOUT_NANO = 9_999_979_189n;
