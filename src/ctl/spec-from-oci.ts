import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  HookSchema,
  HooksSchema,
  MountSchema,
  ProcessSchema,
  SpecSchema,
} from "../protocol/gen/oci_pb.js";
import type { JsonFields } from "./json-fields.js";
import { linuxFromOci } from "./linux-from-oci.js";

export type SpecInit = MessageInitShape<typeof SpecSchema>;
export type ProcessInit = MessageInitShape<typeof ProcessSchema>;

/*
 * The inverse of the agent's src/rpc/convert/spec-from-proto.ts: an OCI runtime-spec config.json (read
 * through JsonFields, so every member is type-checked and 64-bit values stay exact) as the agent
 * protocol's grpc.Spec. Members the protocol has no field for are left unread, for the caller to report.
 * Where the agent reads a zero value as "unset", unset reads as zero; a device-cgroup rule's absent
 * major/minor becomes Kata's wildcard, -1.
 */

/** Converts a whole config.json. */
export function specFromOci(spec: JsonFields): SpecInit {
  const process = spec.object("process");
  const root = spec.object("root");
  const hooks = spec.object("hooks");
  const linux = spec.object("linux");
  return {
    Version: spec.string("ociVersion"),
    ...(process ? { Process: processFromOci(process) } : {}),
    ...(root ? { Root: { Path: root.string("path"), Readonly: root.bool("readonly") } } : {}),
    Hostname: spec.string("hostname"),
    Mounts: spec.objects("mounts").map(mountFromOci),
    ...(hooks ? { Hooks: hooksFromOci(hooks) } : {}),
    Annotations: spec.stringMap("annotations"),
    ...(linux ? { Linux: linuxFromOci(linux) } : {}),
  };
}

/** Converts a config.json `process`. */
export function processFromOci(p: JsonFields): ProcessInit {
  const consoleSize = p.object("consoleSize");
  const user = p.object("user");
  const caps = p.object("capabilities");
  return {
    Terminal: p.bool("terminal"),
    ...(consoleSize
      ? { ConsoleSize: { Height: consoleSize.uint32("height"), Width: consoleSize.uint32("width") } }
      : {}),
    ...(user
      ? {
          User: {
            UID: user.uint32("uid"),
            GID: user.uint32("gid"),
            AdditionalGids: user.uint32s("additionalGids"),
            Username: user.string("username"),
          },
        }
      : {}),
    Args: p.strings("args"),
    Env: p.strings("env"),
    Cwd: p.string("cwd"),
    ...(caps
      ? {
          Capabilities: {
            Bounding: caps.strings("bounding"),
            Effective: caps.strings("effective"),
            Inheritable: caps.strings("inheritable"),
            Permitted: caps.strings("permitted"),
            Ambient: caps.strings("ambient"),
          },
        }
      : {}),
    Rlimits: p
      .objects("rlimits")
      .map((r) => ({ Type: r.string("type"), Hard: r.uint64("hard"), Soft: r.uint64("soft") })),
    NoNewPrivileges: p.bool("noNewPrivileges"),
    ApparmorProfile: p.string("apparmorProfile"),
    OOMScoreAdj: p.int64("oomScoreAdj"),
    SelinuxLabel: p.string("selinuxLabel"),
  };
}

function mountFromOci(m: JsonFields): MessageInitShape<typeof MountSchema> {
  return {
    destination: m.string("destination"),
    source: m.string("source"),
    type: m.string("type"),
    options: m.strings("options"),
  };
}

function hooksFromOci(h: JsonFields): MessageInitShape<typeof HooksSchema> {
  return {
    Prestart: h.objects("prestart").map(hookFromOci),
    CreateRuntime: h.objects("createRuntime").map(hookFromOci),
    CreateContainer: h.objects("createContainer").map(hookFromOci),
    StartContainer: h.objects("startContainer").map(hookFromOci),
    Poststart: h.objects("poststart").map(hookFromOci),
    Poststop: h.objects("poststop").map(hookFromOci),
  };
}

function hookFromOci(h: JsonFields): MessageInitShape<typeof HookSchema> {
  return {
    Path: h.string("path"),
    Args: h.strings("args"),
    Env: h.strings("env"),
    Timeout: h.int64("timeout"),
  };
}
