import type { Container } from "../container/container.js";
import type { SandboxPlacement } from "../container/create-container.js";
import type { GuestHooks } from "../container/guest-hooks.js";
import { AgentError, Code } from "../errors.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import type { OomEvents } from "./oom-events.js";
import type { SharedNamespaces } from "./shared-namespaces.js";

/** A running sandbox: its shared namespaces, guest hooks, containers, and how to undo it. */
export class Sandbox {
  readonly id: string;
  readonly hostname: string;
  readonly namespaces: SharedNamespaces;
  readonly guestHooks: GuestHooks;
  /** The PID namespace containers share: berth-pause's (sandbox_pidns), or the first donor container's. */
  pidNamespace: string | undefined;
  /** The PID namespace is berth-pause's, so every container joins it. */
  readonly hasPauseNamespace: boolean;
  readonly containers = new Map<string, Container>();
  /** Ids being created now: a duplicate is refused before anything is built. */
  readonly creating = new Set<string>();
  readonly undo: CleanupStack;
  /** What GetOOMEvent hands out: the containers' OOM kills, in order. */
  readonly oomEvents: OomEvents;

  constructor(d: {
    id: string;
    hostname: string;
    namespaces: SharedNamespaces;
    guestHooks: GuestHooks;
    pidNamespace: string | undefined;
    undo: CleanupStack;
    oomEvents: OomEvents;
  }) {
    this.id = d.id;
    this.hostname = d.hostname;
    this.namespaces = d.namespaces;
    this.guestHooks = d.guestHooks;
    this.pidNamespace = d.pidNamespace;
    this.hasPauseNamespace = d.pidNamespace !== undefined;
    this.undo = d.undo;
    this.oomEvents = d.oomEvents;
  }

  container(id: string): Container {
    const c = this.containers.get(id);
    if (!c) throw new AgentError(Code.NOT_FOUND, `container ${JSON.stringify(id)} not found`);
    return c;
  }

  /**
   * Where a new container goes: the sandbox's UTS and IPC namespaces, its PID namespace when the container
   * shares it (it asked to, or the sandbox has berth-pause's, which every container joins), its guest
   * hooks, and its OOM events (except the sandbox's own container's, which Kata does not watch either).
   */
  placementFor(req: { containerId: string; sandboxPidns: boolean }): SandboxPlacement {
    const sharedPid = this.pidNamespace && (req.sandboxPidns || this.hasPauseNamespace);
    return {
      namespaces: { ...this.namespaces, ...(sharedPid ? { pid: this.pidNamespace } : {}) },
      guestHooks: this.guestHooks,
      onOom: req.containerId === this.id ? undefined : () => this.oomEvents.push(req.containerId),
    };
  }

  /** Claims `id` for a container being created; ALREADY_EXISTS if it is taken. */
  reserve(id: string): void {
    if (this.containers.has(id) || this.creating.has(id)) {
      throw new AgentError(Code.ALREADY_EXISTS, `container ${id} already exists`);
    }
    this.creating.add(id);
  }
}
