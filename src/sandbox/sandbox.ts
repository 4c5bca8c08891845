import type { Container } from "../container/container.js";
import type { ContainerDeps } from "../container/container-deps.js";
import { widenCpusets } from "../container/cpuset-widening.js";
import {
  type CreateContainerRequest,
  createContainer,
  type SandboxPlacement,
} from "../container/create-container.js";
import type { GuestHooks } from "../container/guest-hooks.js";
import { AgentError, Code } from "../errors.js";
import { abortReason, forwardAbort, untilAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { trimMemorySoon } from "../sys/memory-trim.js";
import type { OomEvents } from "./oom-events.js";
import { pinPidNamespace, type SharedNamespaces, type SharedPidNamespace } from "./shared-namespaces.js";

/** A CreateContainer in flight: what ends it, and its end (rolled back in full, or inserted). */
interface Creation {
  readonly controller: AbortController;
  readonly settled: Promise<void>;
}

/** The PID namespace the containers share, and whether its init has exited. */
interface PidNamespaceState {
  readonly ns: SharedPidNamespace;
  /** berth-pause's: every container joins it, not only those that ask. */
  readonly pause: boolean;
  ended: boolean;
}

/**
 * A running sandbox: its shared namespaces and guest hooks, its containers and the creations in flight,
 * and how to undo it. A creation takes its id at once; DestroySandbox and RemoveContainer end creations
 * in flight (each rolls back in full) and wait for them, so nothing is ever inserted into a sandbox that
 * is gone or under an id that was removed. Nothing here is held while a container call blocks.
 */
export class Sandbox {
  readonly id: string;
  readonly hostname: string;
  readonly namespaces: SharedNamespaces;
  readonly guestHooks: GuestHooks;
  readonly undo: CleanupStack;
  /** What GetOOMEvent hands out: the containers' OOM kills, in order. */
  readonly oomEvents: OomEvents;
  readonly #deps: ContainerDeps;
  readonly #containers = new Map<string, Container>();
  readonly #creations = new Map<string, Creation>();
  #pid: PidNamespaceState | undefined;
  /** While the first container asking to share a PID namespace is created: the end of its creation. */
  #donor: Promise<void> | undefined;
  #destroyed = false;

  constructor(d: {
    id: string;
    hostname: string;
    namespaces: SharedNamespaces;
    guestHooks: GuestHooks;
    /** berth-pause's namespace (sandbox_pidns); none: the first container asking for one donates its own. */
    pidNamespace: SharedPidNamespace | undefined;
    undo: CleanupStack;
    oomEvents: OomEvents;
    deps: ContainerDeps;
  }) {
    this.id = d.id;
    this.hostname = d.hostname;
    this.namespaces = d.namespaces;
    this.guestHooks = d.guestHooks;
    this.undo = d.undo;
    this.oomEvents = d.oomEvents;
    this.#deps = d.deps;
    if (d.pidNamespace) this.#sharePid(d.pidNamespace, true);
  }

  container(id: string): Container {
    const c = this.#containers.get(id);
    if (!c) throw new AgentError(Code.NOT_FOUND, `container ${JSON.stringify(id)} not found`);
    return c;
  }

  /**
   * Creates a container: its id is taken for the whole creation (a duplicate is ALREADY_EXISTS before
   * anything is built). `signal` (the caller's end), RemoveContainer of the id or DestroySandbox ends the
   * creation: everything is rolled back and the call fails with the reason. The first container that asks
   * for `sandbox_pidns` when the sandbox has no PID namespace donates its own to the later ones (a second
   * one asking meanwhile waits for the first to be created).
   */
  createContainer(req: CreateContainerRequest, signal?: AbortSignal): Promise<Container> {
    const id = req.containerId;
    if (this.#destroyed) {
      return Promise.reject(
        new AgentError(Code.FAILED_PRECONDITION, `sandbox ${this.id} is being destroyed`),
      );
    }
    if (this.#containers.has(id) || this.#creations.has(id)) {
      return Promise.reject(new AgentError(Code.ALREADY_EXISTS, `container ${id} already exists`));
    }
    const controller = new AbortController();
    const unlink = forwardAbort(signal, controller);
    let settle!: () => void;
    this.#creations.set(id, { controller, settled: new Promise<void>((resolve) => (settle = resolve)) });
    return this.#create(req, controller.signal).finally(() => {
      unlink();
      this.#creations.delete(id);
      settle();
    });
  }

  async #create(req: CreateContainerRequest, signal: AbortSignal): Promise<Container> {
    while (req.sandboxPidns && !this.#pid && this.#donor !== undefined) {
      await untilAborted(this.#donor, signal);
    }
    const donates = req.sandboxPidns && !this.#pid;
    let donorCreated: (() => void) | undefined;
    if (donates) this.#donor = new Promise<void>((resolve) => (donorCreated = resolve));
    let container: Container | undefined;
    try {
      container = await createContainer(this.#deps, this.#placementFor(req), req, signal);
      const pin = donates ? await this.#pinDonor(container) : undefined;
      if (signal.aborted) {
        await pin?.unwind();
        throw abortReason(signal);
      }
      if (pin) {
        const ns = { path: this.#pidFile, owner: `container ${container.id}`, ended: container.init.exited };
        this.#sharePid(ns, false);
        this.undo.push(`unpin the PID namespace of container ${container.id}`, () => pin.unwind());
      }
      this.#containers.set(container.id, container);
      return container;
    } catch (error) {
      await container?.remove().catch((cleanup: unknown) => {
        this.#deps.log.error(
          { container: req.containerId, err: cleanup },
          "removal of an ended creation failed",
        );
      });
      throw signal.aborted ? abortReason(signal) : error;
    } finally {
      if (donates) {
        this.#donor = undefined;
        donorCreated?.();
      }
    }
  }

  get #pidFile(): string {
    return `${this.#deps.paths.sandboxNsDir}/pid`;
  }

  #sharePid(ns: SharedPidNamespace, pause: boolean): void {
    const state: PidNamespaceState = { ns, pause, ended: false };
    this.#pid = state;
    void ns.ended.then(() => {
      state.ended = true;
    });
  }

  /**
   * Pins the new container's PID namespace for the later ones. Its init has not been reaped (the reaper
   * would have told the container), so its pid still names it while the bind mount is made; checked again
   * after it.
   */
  async #pinDonor(container: Container): Promise<CleanupStack> {
    const pin = new CleanupStack();
    try {
      if (container.init.exit) throw new AgentError(Code.FAILED_PRECONDITION, "its init has exited");
      await pinPidNamespace(container.init.pid, this.#pidFile, pin);
      if (container.init.exit) throw new AgentError(Code.FAILED_PRECONDITION, "its init has exited");
      return pin;
    } catch (error) {
      await pin.unwind().catch((cleanup: unknown) => {
        this.#deps.log.error({ container: container.id, err: cleanup }, "cannot undo a PID namespace pin");
      });
      throw AgentError.wrap(
        error,
        `container ${container.id}: cannot share its PID namespace with the sandbox`,
      );
    }
  }

  /**
   * Where a new container goes: the sandbox's UTS and IPC namespaces, its PID namespace when the container
   * shares it (it asked to, or it is berth-pause's, which every container joins), its guest hooks, and its
   * OOM events (except the sandbox's own container's, which Kata does not watch either). Joining a PID
   * namespace whose init has exited cannot work: FAILED_PRECONDITION naming that init.
   */
  #placementFor(req: { containerId: string; sandboxPidns: boolean }): SandboxPlacement {
    const pid = this.#pid;
    const joins = pid !== undefined && (req.sandboxPidns || pid.pause);
    if (joins && pid.ended) {
      throw new AgentError(
        Code.FAILED_PRECONDITION,
        `container ${req.containerId} cannot join the sandbox's PID namespace: its init, ${pid.ns.owner}, has exited, and nothing can start in it now`,
      );
    }
    return {
      namespaces: { ...this.namespaces, ...(joins ? { pid: pid.ns.path } : {}) },
      guestHooks: this.guestHooks,
      onOom: req.containerId === this.id ? undefined : () => this.oomEvents.push(req.containerId),
    };
  }

  /**
   * Removes a container. One still being created is ended (rolled back in full) and waited for, so the
   * answer comes once nothing of it is left, as a host whose CreateContainer timed out needs.
   */
  async removeContainer(id: string): Promise<void> {
    const creation = this.#creations.get(id);
    if (creation) {
      creation.controller.abort(
        new AgentError(Code.ABORTED, `container ${id} was removed while it was being created`),
      );
      await creation.settled;
      if (!this.#containers.has(id)) return;
    }
    await this.#remove(this.container(id));
  }

  #remove(container: Container): Promise<void> {
    return container.remove().finally(() => {
      if (this.#containers.get(container.id) === container) this.#containers.delete(container.id);
      trimMemorySoon();
    });
  }

  /**
   * OnlineCPUMem's last step: the cpusets of the containers, and of the sandbox's cgroups above them, widen
   * to the CPUs `online` now (see widenCpusets). A container still being created is not among them: its
   * cpuset is what was online when it read the list.
   */
  widenCpusets(online: string): Promise<void> {
    return widenCpusets([...this.#containers.values()], online);
  }

  /**
   * Ends every creation in flight and waits until each is rolled back, removes every container, then
   * undoes the sandbox (namespaces, pins, storages, DNS). Returns the failures; the sandbox is gone anyway.
   */
  async destroy(): Promise<unknown[]> {
    this.#destroyed = true;
    const creations = [...this.#creations];
    for (const [id, creation] of creations) {
      creation.controller.abort(
        new AgentError(
          Code.ABORTED,
          `sandbox ${this.id} was destroyed while container ${id} was being created`,
        ),
      );
    }
    await Promise.all(creations.map(([, creation]) => creation.settled));
    const results = await Promise.allSettled([...this.#containers.values()].map((c) => this.#remove(c)));
    const failures: unknown[] = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    await this.undo.unwind().catch((error: unknown) => failures.push(error));
    return failures;
  }
}
