/*
 * berth's native surface: the few Linux calls Node.js cannot make. Every function is a thin wrapper over
 * one or a few syscalls; policy stays in TypeScript (src/sys/). Calls that can block for a moment (mount,
 * connect, the *at calls) run on libuv's thread pool and return Promises; the rest are synchronous. Nothing that
 * waits for a peer runs on the pool: such waits poll on Node's own loop (pollFd), then make a non-blocking call.
 *
 * sockets.c
 *   vsockListen(cid, port, backlog) -> fd          AF_VSOCK stream socket, bound and listening
 *   unixListen(address, backlog) -> fd             AF_UNIX stream socket; a leading NUL byte makes it abstract
 *   vsockConnect(cid, port) -> fd                  AF_VSOCK stream socket connected to cid:port, as a Promise
 *   unixConnect(address) -> fd                     AF_UNIX stream socket connected (abstract: leading NUL), as a Promise
 *   acceptConnection(listenFd) -> fd | null        accept4(SOCK_NONBLOCK | SOCK_CLOEXEC); null when none is waiting
 *   receiveFd(socketFd) -> fd | null               recvmsg of exactly one fd (SCM_RIGHTS), made O_NONBLOCK; null
 *                                                  when nothing has arrived; EBADMSG for anything else
 * fds.c
 *   pipe() -> [readFd, writeFd]                    pipe2(O_CLOEXEC): a real pipe, not a socketpair
 *   dup(fd) -> fd                                  fcntl(F_DUPFD_CLOEXEC): a pty master for reading and writing
 *   setWindowSize(fd, rows, columns)               ioctl(TIOCSWINSZ)
 *   setPipeSize(fd, bytes) -> bytes                fcntl(F_SETPIPE_SZ): a pipe's capacity (the kernel rounds up)
 *   readableBytes(fd) -> n                         ioctl(FIONREAD): bytes waiting in a pipe or pty
 *   setNonBlocking(fd)                             fcntl(F_SETFL): O_NONBLOCK on the fd's file description
 * system.c
 *   setChildSubreaper()                            prctl(PR_SET_CHILD_SUBREAPER, 1)
 *   trimMemory() -> released                       malloc_trim(0): the C heap's free pages back to the kernel
 *   reapChildren(excluded) -> {reaped, blocked}    reap exited children, except pids in `excluded`
 *   setHostname(name)                              sethostname(2), for PID 1 mode
 *   interfaceUp(name)                              SIOCGIFFLAGS/SIOCSIFFLAGS: set IFF_UP (lo, in PID 1 mode)
 *   shutdown(action)                               sync(2) then reboot(2): "poweroff" or "reboot"; returns only on failure
 *   setTimeOfDay(sec, usec)                        settimeofday(2): set CLOCK_REALTIME (the kernel checks the values)
 *   addEntropy(data)                               /dev/random ioctls: RNDADDENTROPY (8 bits a byte), then RNDRESEEDCRNG
 * mount.c
 *   mount(source, target, fstype, flags, data)     mount(2), as a Promise
 *   umount(target, flags)                          umount2(2), as a Promise
 * fs_at.c
 *   openat2(dirFd, path, flags, mode, resolve) -> fd   openat2(2) (O_CLOEXEC added), as a Promise
 *   mkdirat(dirFd, name, mode)                     mkdirat(2), as a Promise
 *   symlinkat(target, dirFd, name)                 symlinkat(2), as a Promise
 *   renameat(dirFd, from, to)                      renameat(2) within one directory, as a Promise
 *   unlinkat(dirFd, name, flags)                   unlinkat(2), as a Promise
 *   fchownat(dirFd, name, uid, gid, flags)         fchownat(2), as a Promise
 *   constants                                      O_PATH, AT_*, RESOLVE_* as this kernel's headers define them;
 *                                                  POLL_READABLE, POLL_WRITABLE as libuv's
 * netlink.c
 *   netlinkOpen(protocol, groups, receiveBytes) -> fd   AF_NETLINK raw socket (non-blocking, close-on-exec) bound
 *                                                  to `groups`, its receive buffer sized; extended acks on
 *   netlinkSend(fd, datagram) -> sent              sendto the kernel; false when the send buffer is full
 *   netlinkReceive(fd, buffer) -> [length, port] | null   one datagram (length > buffer: cut); null when none
 *                                                  waits; ENOBUFS when the receive queue overflowed
 * poll.c
 *   eventfd() -> fd                                eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
 *   pollFd(fd, events, onReady) -> poll            a libuv poll on a dup of fd, on Node's own loop (no thread):
 *                                                  onReady(error?) runs while fd is ready for `events`
 *                                                  (POLL_READABLE | POLL_WRITABLE); poll.setEvents(events)
 *                                                  changes them (0 pauses), poll.stop() ends it
 *
 * The helpers these share (errors, arguments, the thread-pool work item) are in common.c, declared in common.h.
 *
 * Failures throw (or reject with) an Error whose `code` is the errno name ("EADDRINUSE") and whose
 * `syscall` names the call that failed.
 */

#include "common.h"

static napi_value init(napi_env env, napi_value exports) {
  napi_value constants = fs_constants(env);
  add_poll_constants(env, constants);
  napi_property_descriptor props[] = {
      {"vsockListen", NULL, vsock_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unixListen", NULL, unix_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pipe", NULL, make_pipe, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup", NULL, dup_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setHostname", NULL, set_hostname, NULL, NULL, NULL, napi_enumerable, NULL},
      {"interfaceUp", NULL, interface_up, NULL, NULL, NULL, napi_enumerable, NULL},
      {"shutdown", NULL, shutdown_system, NULL, NULL, NULL, napi_enumerable, NULL},
      {"vsockConnect", NULL, vsock_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unixConnect", NULL, unix_connect, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setWindowSize", NULL, set_window_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setPipeSize", NULL, set_pipe_size, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readableBytes", NULL, readable_bytes, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setNonBlocking", NULL, set_non_blocking, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mountsChanged", NULL, mounts_changed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spawnProcess", NULL, spawn_process, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reapProcess", NULL, reap_process, NULL, NULL, NULL, napi_enumerable, NULL},
      {"eventfd", NULL, make_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollFd", NULL, poll_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkOpen", NULL, netlink_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkSend", NULL, netlink_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkReceive", NULL, netlink_receive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"trimMemory", NULL, trim_memory, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reapChildren", NULL, reap_children, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount", NULL, do_umount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"acceptConnection", NULL, accept_connection, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveFd", NULL, receive_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTimeOfDay", NULL, set_time_of_day, NULL, NULL, NULL, napi_enumerable, NULL},
      {"addEntropy", NULL, add_entropy, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openat2", NULL, open_at2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mkdirat", NULL, mkdir_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symlinkat", NULL, symlink_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameat", NULL, rename_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unlinkat", NULL, unlink_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fchownat", NULL, fchown_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"constants", NULL, NULL, NULL, NULL, constants, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
