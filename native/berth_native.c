/*
 * berth's native surface: the few Linux calls Node.js cannot make. Every function is a thin wrapper over
 * one or a few syscalls; policy stays in TypeScript (src/sys/). Calls that can block (mount, waiting for
 * runc's console fd) run on libuv's thread pool and return Promises; the rest are synchronous.
 *
 *   vsockListen(cid, port, backlog) -> fd          AF_VSOCK stream socket, bound and listening
 *   unixListen(address, backlog) -> fd             AF_UNIX stream socket; a leading NUL byte makes it abstract
 *   pipe() -> [readFd, writeFd]                    pipe2(O_CLOEXEC): a real pipe, not a socketpair
 *   setChildSubreaper()                            prctl(PR_SET_CHILD_SUBREAPER, 1)
 *   reapChildren(excluded) -> {reaped, blocked}    reap exited children, except pids in `excluded`
 *   mount(source, target, fstype, flags, data)     mount(2), as a Promise
 *   umount(target, flags)                          umount2(2), as a Promise
 *   receiveFd(listenFd, timeoutMs) -> fd           accept one connection, receive one fd (SCM_RIGHTS)
 *   vsockConnect(cid, port) -> fd                  AF_VSOCK stream socket connected to cid:port, as a Promise
 *   unixConnect(address) -> fd                     AF_UNIX stream socket connected (abstract: leading NUL), as a Promise
 *   dup(fd) -> fd                                  fcntl(F_DUPFD_CLOEXEC): a pty master for reading and writing
 *   setWindowSize(fd, rows, columns)               ioctl(TIOCSWINSZ)
 *   setHostname(name)                              sethostname(2), for PID 1 mode
 *   interfaceUp(name)                              SIOCGIFFLAGS/SIOCSIFFLAGS: set IFF_UP (lo, in PID 1 mode)
 *   shutdown(action)                               sync(2) then reboot(2): "poweroff" or "reboot"; returns only on failure
 *   setPipeSize(fd, bytes) -> bytes               fcntl(F_SETPIPE_SZ): a pipe's capacity (the kernel rounds up)
 *   readableBytes(fd) -> n                         ioctl(FIONREAD): bytes waiting in a pipe or pty
 *   setTimeOfDay(sec, usec)                        settimeofday(2): set CLOCK_REALTIME (the kernel checks the values)
 *   openat2(dirFd, path, flags, mode, resolve) -> fd   openat2(2) (O_CLOEXEC added), as a Promise
 *   mkdirat(dirFd, name, mode)                     mkdirat(2), as a Promise
 *   symlinkat(target, dirFd, name)                 symlinkat(2), as a Promise
 *   renameat(dirFd, from, to)                      renameat(2) within one directory, as a Promise
 *   unlinkat(dirFd, name, flags)                   unlinkat(2), as a Promise
 *   fchownat(dirFd, name, uid, gid, flags)         fchownat(2), as a Promise
 *   constants                                      O_PATH, AT_*, RESOLVE_* as this kernel's headers define them
 *   eventfd() -> fd                                eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
 *   pollReadable(fd, onReadable) -> stop           a libuv poll on a dup of fd, on Node's own loop (no thread):
 *                                                  onReadable(error?) runs while fd is readable; stop() ends it
 *
 * The *at calls run on the thread pool because the directories they act on may be a virtio-fs share, where
 * a slow host would otherwise stall the event loop; they are what lets src/sys/beneath.ts keep every write
 * of CopyFile inside one directory, resolved by the kernel (openat2 RESOLVE_BENEATH), never by path strings.
 *
 * Failures throw (or reject with) an Error whose `code` is the errno name ("EADDRINUSE") and whose
 * `syscall` names the call that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <linux/vm_sockets.h>
#include <math.h>
#include <node_api.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

static napi_value errno_error(napi_env env, int err, const char *syscall) {
  const char *name = strerrorname_np(err);
  char message[160];
  snprintf(message, sizeof message, "%s: %s", syscall, strerror(err));
  napi_value code, msg, error, sys, errno_value;
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_create_int32(env, -err, &errno_value);
  napi_set_named_property(env, error, "errno", errno_value);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, errno_error(env, err, syscall));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

/* A string argument, or NULL for JS null/undefined; malloc'd, caller frees. */
static bool get_string_or_null(napi_env env, napi_value value, char **out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_null || type == napi_undefined) {
    *out = NULL;
    return true;
  }
  size_t length;
  if (type != napi_string || napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return false;
  *out = malloc(length + 1);
  if (!*out) return false;
  napi_get_value_string_utf8(env, value, *out, length + 1, &length);
  return true;
}

/* ---- sockets ---- */

/* socket + bind + listen; returns the fd, or -1 with *failed naming the syscall. */
static int bind_listen(int family, const struct sockaddr *addr, socklen_t len, int backlog, const char **failed) {
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *failed = "socket";
    return -1;
  }
  if (bind(fd, addr, len) < 0) {
    *failed = "bind";
  } else if (listen(fd, backlog) < 0) {
    *failed = "listen";
  } else {
    return fd;
  }
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

static napi_value vsock_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int64_t cid;
  uint32_t port;
  int32_t backlog;
  if (argc != 3 || napi_get_value_int64(env, argv[0], &cid) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &port) != napi_ok || napi_get_value_int32(env, argv[2], &backlog) != napi_ok) {
    return throw_type(env, "vsockListen(cid: number, port: number, backlog: number)");
  }
  struct sockaddr_vm addr;
  memset(&addr, 0, sizeof addr);
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = (unsigned int)(uint32_t)cid;
  addr.svm_port = port;
  const char *failed = NULL;
  int fd = bind_listen(AF_VSOCK, (struct sockaddr *)&addr, sizeof addr, backlog, &failed);
  return fd < 0 ? throw_errno(env, errno, failed) : int_value(env, fd);
}

static napi_value unix_listen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *data;
  size_t length;
  int32_t backlog;
  bool is_buffer = false;
  if (argc != 2 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok ||
      napi_get_value_int32(env, argv[1], &backlog) != napi_ok) {
    return throw_type(env, "unixListen(address: Buffer, backlog: number)");
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  if (length == 0 || length >= sizeof addr.sun_path) return throw_errno(env, ENAMETOOLONG, "bind");
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, data, length);
  const char *failed = NULL;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + (addr.sun_path[0] ? 1 : 0));
  int fd = bind_listen(AF_UNIX, (struct sockaddr *)&addr, len, backlog, &failed);
  return fd < 0 ? throw_errno(env, errno, failed) : int_value(env, fd);
}

/* ---- pipes and processes ---- */

static napi_value make_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return throw_errno(env, errno, "pipe2");
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, int_value(env, fds[0]));
  napi_set_element(env, out, 1, int_value(env, fds[1]));
  return out;
}

/* Reads `count` int32 arguments; false (with a TypeError thrown) when any is missing or not a number. */
static bool int_args(napi_env env, napi_callback_info info, size_t count, int32_t *out, const char *signature) {
  size_t argc = 3;
  napi_value argv[3];
  if (count > 3 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < count) {
    throw_type(env, signature);
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      throw_type(env, signature);
      return false;
    }
  }
  return true;
}

static napi_value dup_fd(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "dup(fd: number)")) return NULL;
  int fd = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
  return fd < 0 ? throw_errno(env, errno, "fcntl") : int_value(env, fd);
}

static napi_value set_window_size(napi_env env, napi_callback_info info) {
  int32_t a[3];
  if (!int_args(env, info, 3, a, "setWindowSize(fd: number, rows: number, columns: number)")) return NULL;
  if (a[1] < 0 || a[1] > 0xffff || a[2] < 0 || a[2] > 0xffff) return throw_errno(env, EINVAL, "ioctl");
  struct winsize size = {.ws_row = (unsigned short)a[1], .ws_col = (unsigned short)a[2]};
  if (ioctl(a[0], TIOCSWINSZ, &size) < 0) return throw_errno(env, errno, "ioctl");
  return NULL;
}

static napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, 2, a, "setPipeSize(fd: number, bytes: number)")) return NULL;
  int size = fcntl(a[0], F_SETPIPE_SZ, a[1]);
  return size < 0 ? throw_errno(env, errno, "fcntl") : int_value(env, size);
}

static napi_value readable_bytes(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "readableBytes(fd: number)")) return NULL;
  int n = 0;
  if (ioctl(a[0], FIONREAD, &n) < 0) return throw_errno(env, errno, "ioctl");
  return int_value(env, n);
}

static napi_value make_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd < 0 ? throw_errno(env, errno, "eventfd") : int_value(env, fd);
}

/* ---- readiness of an fd on Node's event loop ---- */

/*
 * One uv_poll_t on the loop Node runs, unref'd: a watch alone does not keep the process alive. It polls a
 * duplicate of the caller's fd, closed once the poll is stopped: libuv aborts when a watched fd is closed
 * before it registers it, and a watched fd closed and reused would be taken over (its next owner's events
 * delivered here, and unregistered by stop()). stop() (or the environment's teardown) stops it; the struct
 * is freed once the handle is closed and the stop function has been collected, whichever comes last.
 * Teardown is an async cleanup hook that ends only in watch_closed: Node keeps running the loop until then,
 * so a worker thread's exit cannot unload the addon while libuv still holds a callback into it.
 */
typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle teardown;
  int fd;
  bool stopped, closed, finalized;
} readable_watch_t;

/* The last use of w may be removing the hook: at teardown that releases the env, whose finalizers free w. */
static void watch_closed(uv_handle_t *handle) {
  readable_watch_t *w = handle->data;
  napi_async_cleanup_hook_handle teardown = w->teardown;
  w->closed = true;
  if (w->finalized) free(w);
  if (teardown) napi_remove_async_cleanup_hook(teardown);
}

static void watch_close(readable_watch_t *w) {
  w->stopped = true;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, watch_closed);
  close(w->fd);
}

/* At the environment's teardown its references go with it: only the handle is left to close. */
static void watch_teardown(napi_async_cleanup_hook_handle handle, void *data) {
  (void)handle;
  readable_watch_t *w = data;
  if (!w->stopped) watch_close(w);
}

static void watch_stop(readable_watch_t *w) {
  if (w->stopped) return;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  watch_close(w);
}

static void watch_readable(uv_poll_t *handle, int status, int events) {
  (void)events;
  readable_watch_t *w = handle->data;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, recv, argv[1], ignored;
  size_t argc = 0;
  napi_get_reference_value(env, w->callback, &callback);
  napi_get_global(env, &recv);
  if (status < 0) argv[argc++] = errno_error(env, -status, "uv_poll");
  if (napi_make_callback(env, w->context, recv, callback, argc, argv, &ignored) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value stop_poll(napi_env env, napi_callback_info info) {
  void *data;
  napi_get_cb_info(env, info, NULL, NULL, NULL, &data);
  watch_stop(data);
  return NULL;
}

static void finalize_stop(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  readable_watch_t *w = data;
  w->finalized = true;
  if (w->closed) free(w);
}

static napi_value poll_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_typeof(env, argv[1], &type) != napi_ok ||
      type != napi_function) {
    return throw_type(env, "pollReadable(fd: number, onReadable: (error?: Error) => void)");
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, EINVAL, "uv_poll_init");
  readable_watch_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "malloc");
  w->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (w->fd < 0) {
    int saved = errno;
    free(w);
    return throw_errno(env, saved, "fcntl");
  }
  int err = uv_poll_init(loop, &w->poll, w->fd);
  if (err < 0) {
    close(w->fd);
    free(w);
    return throw_errno(env, -err, "uv_poll_init");
  }
  w->poll.data = w;
  w->env = env;
  napi_value name, stop;
  napi_create_string_utf8(env, "berth.pollReadable", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_create_reference(env, argv[1], 1, &w->callback);
  err = uv_poll_start(&w->poll, UV_READABLE, watch_readable);
  if (err < 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    w->finalized = true;
    watch_close(w);
    return throw_errno(env, -err, "uv_poll_start");
  }
  uv_unref((uv_handle_t *)&w->poll);
  napi_add_async_cleanup_hook(env, watch_teardown, w, &w->teardown);
  napi_create_function(env, "stop", NAPI_AUTO_LENGTH, stop_poll, w, &stop);
  napi_add_finalizer(env, stop, w, finalize_stop, NULL, NULL);
  return stop;
}

/* Copies a string argument into buf (NUL-terminated); false (TypeError thrown) if it is not a string that fits. */
static bool string_arg(napi_env env, napi_callback_info info, char *buf, size_t size, size_t *length, const char *signature) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_string_utf8(env, argv[0], buf, size, length) != napi_ok || *length >= size - 1) {
    throw_type(env, signature);
    return false;
  }
  return true;
}

static napi_value set_hostname(napi_env env, napi_callback_info info) {
  char name[HOST_NAME_MAX + 2];
  size_t length = 0;
  if (!string_arg(env, info, name, sizeof name, &length, "setHostname(name: string)")) return NULL;
  if (sethostname(name, length) < 0) return throw_errno(env, errno, "sethostname");
  return NULL;
}

static napi_value interface_up(napi_env env, napi_callback_info info) {
  struct ifreq req;
  memset(&req, 0, sizeof req);
  size_t length = 0;
  if (!string_arg(env, info, req.ifr_name, sizeof req.ifr_name, &length, "interfaceUp(name: string)")) return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  int failed = ioctl(fd, SIOCGIFFLAGS, &req);
  if (failed == 0 && !(req.ifr_flags & IFF_UP)) {
    req.ifr_flags |= IFF_UP;
    failed = ioctl(fd, SIOCSIFFLAGS, &req);
  }
  int err = errno;
  close(fd);
  if (failed < 0) return throw_errno(env, err, "ioctl");
  return NULL;
}

static napi_value shutdown_system(napi_env env, napi_callback_info info) {
  char action[16];
  size_t length = 0;
  if (!string_arg(env, info, action, sizeof action, &length, "shutdown(action: \"poweroff\" | \"reboot\")")) return NULL;
  int cmd;
  if (strcmp(action, "poweroff") == 0) cmd = RB_POWER_OFF;
  else if (strcmp(action, "reboot") == 0) cmd = RB_AUTOBOOT;
  else return throw_type(env, "shutdown(action: \"poweroff\" | \"reboot\")");
  sync();
  if (reboot(cmd) < 0) return throw_errno(env, errno, "reboot");
  return NULL;
}

static napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return throw_errno(env, errno, "prctl");
  return NULL;
}

/* An integer-valued JS number (no NaN, fraction or infinity): a bad value must never reach settimeofday as 0. */
static bool exact_int64(napi_env env, napi_value value, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !isfinite(d) || d != trunc(d) || fabs(d) > 9007199254740991.0) {
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static napi_value set_time_of_day(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t sec, usec;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || !exact_int64(env, argv[0], &sec) ||
      !exact_int64(env, argv[1], &usec)) {
    return throw_type(env, "setTimeOfDay(sec: integer, usec: integer)");
  }
  struct timeval tv = {.tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec};
  if (settimeofday(&tv, NULL) < 0) return throw_errno(env, errno, "settimeofday");
  return NULL;
}

static bool contains(const int32_t *pids, size_t n, pid_t pid) {
  for (size_t i = 0; i < n; i++) {
    if (pids[i] == pid) return true;
  }
  return false;
}

/*
 * Reaps every exited child whose pid is not in `excluded` (children Node's child_process spawned: libuv
 * reaps those itself and must not lose their status). waitid(WNOWAIT) peeks before reaping; when the
 * next exited child is an excluded one, the scan stops with `blocked` true so the caller can retry once
 * libuv has collected it. Each entry is [pid, exitCode, signal] (one of the last two is -1).
 */
static napi_value reap_children(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (argc != 1 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    return throw_type(env, "reapChildren(excluded: Int32Array)");
  }
  napi_value reaped, result;
  napi_create_array(env, &reaped);
  uint32_t count = 0;
  bool blocked = false;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      return throw_errno(env, errno, "waitid");
    }
    if (si.si_pid == 0) break;
    if (contains((const int32_t *)data, length, si.si_pid)) {
      blocked = true;
      break;
    }
    siginfo_t done;
    memset(&done, 0, sizeof done);
    while (waitid(P_PID, (id_t)si.si_pid, &done, WEXITED) < 0) {
      if (errno != EINTR) return throw_errno(env, errno, "waitid");
    }
    napi_value entry;
    napi_create_array_with_length(env, 3, &entry);
    bool exited = done.si_code == CLD_EXITED;
    napi_set_element(env, entry, 0, int_value(env, done.si_pid));
    napi_set_element(env, entry, 1, int_value(env, exited ? done.si_status : -1));
    napi_set_element(env, entry, 2, int_value(env, exited ? -1 : done.si_status));
    napi_set_element(env, reaped, count++, entry);
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "reaped", reaped);
  napi_value b;
  napi_get_boolean(env, blocked, &b);
  napi_set_named_property(env, result, "blocked", b);
  return result;
}

/* ---- work on the thread pool ---- */

typedef struct work work_t;
typedef void (*work_fn)(work_t *);

struct work {
  napi_async_work handle;
  napi_deferred deferred;
  work_fn run;
  int err;
  const char *syscall;
  int result;
  char *s1, *s2, *s3, *s4;
  unsigned long flags;
  int fd;
  int timeout_ms;
  int64_t args[3];
};

static void work_execute(napi_env env, void *data) {
  (void)env;
  work_t *w = data;
  w->run(w);
}

static void work_complete(napi_env env, napi_status status, void *data) {
  work_t *w = data;
  if (status != napi_ok) {
    napi_value msg, error;
    napi_create_string_utf8(env, "native work was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
    napi_reject_deferred(env, w->deferred, error);
  } else if (w->err) {
    napi_reject_deferred(env, w->deferred, errno_error(env, w->err, w->syscall));
  } else {
    napi_resolve_deferred(env, w->deferred, int_value(env, w->result));
  }
  napi_delete_async_work(env, w->handle);
  free(w->s1);
  free(w->s2);
  free(w->s3);
  free(w->s4);
  free(w);
}

static napi_value queue_work(napi_env env, work_t *w, const char *name) {
  napi_value promise, resource_name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  napi_create_async_work(env, NULL, resource_name, work_execute, work_complete, w, &w->handle);
  napi_queue_async_work(env, w->handle);
  return promise;
}

static void run_mount(work_t *w) {
  if (mount(w->s1, w->s2, w->s3, w->flags, w->s4) < 0) {
    w->err = errno;
    w->syscall = "mount";
  }
}

static napi_value do_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  work_t *w = calloc(1, sizeof *w);
  double flags;
  if (!w || argc != 5 || !get_string_or_null(env, argv[0], &w->s1) || !get_string_or_null(env, argv[1], &w->s2) ||
      !w->s2 || !get_string_or_null(env, argv[2], &w->s3) || napi_get_value_double(env, argv[3], &flags) != napi_ok ||
      !get_string_or_null(env, argv[4], &w->s4)) {
    if (w) {
      free(w->s1);
      free(w->s2);
      free(w->s3);
      free(w->s4);
      free(w);
    }
    return throw_type(env, "mount(source: string|null, target: string, fstype: string|null, flags: number, data: string|null)");
  }
  w->flags = (unsigned long)flags;
  w->run = run_mount;
  return queue_work(env, w, "berth.mount");
}

static void run_umount(work_t *w) {
  if (umount2(w->s1, (int)w->flags) < 0) {
    w->err = errno;
    w->syscall = "umount2";
  }
}

static napi_value do_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  work_t *w = calloc(1, sizeof *w);
  int32_t flags;
  if (!w || argc != 2 || !get_string_or_null(env, argv[0], &w->s1) || !w->s1 ||
      napi_get_value_int32(env, argv[1], &flags) != napi_ok) {
    if (w) {
      free(w->s1);
      free(w);
    }
    return throw_type(env, "umount(target: string, flags: number)");
  }
  w->flags = (unsigned long)flags;
  w->run = run_umount;
  return queue_work(env, w, "berth.umount");
}

static int remaining_ms(const struct timespec *deadline) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
  return ms < 0 ? 0 : (int)ms;
}

static bool wait_readable(work_t *w, int fd, const struct timespec *deadline) {
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) {
      w->err = ETIMEDOUT;
      w->syscall = "poll";
      return false;
    }
    if (errno != EINTR) {
      w->err = errno;
      w->syscall = "poll";
      return false;
    }
  }
}

/* Accepts one connection on a listening unix socket and receives the one fd it sends (runc --console-socket). */
static void run_receive_fd(work_t *w) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += w->timeout_ms / 1000;
  deadline.tv_nsec += (long)(w->timeout_ms % 1000) * 1000000;
  if (deadline.tv_nsec >= 1000000000) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000;
  }
  int conn = -1;
  while (conn < 0) {
    if (!wait_readable(w, w->fd, &deadline)) return;
    conn = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0 && errno != EAGAIN && errno != EINTR) {
      w->err = errno;
      w->syscall = "accept4";
      return;
    }
  }
  char byte[64];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  for (;;) {
    if (!wait_readable(w, conn, &deadline)) break;
    n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) {
      w->err = errno;
      w->syscall = "recvmsg";
      break;
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
      w->err = EBADMSG;
      w->syscall = "recvmsg";
      break;
    }
    memcpy(&w->result, CMSG_DATA(c), sizeof(int));
    break;
  }
  close(conn);
}

/* Connects w->fd (already created) to the address in w->s1 (w->result holds its length). */
static void run_connect(work_t *w) {
  for (;;) {
    if (connect(w->fd, (struct sockaddr *)w->s1, (socklen_t)w->result) == 0) break;
    if (errno == EINTR) continue;
    w->err = errno;
    w->syscall = "connect";
    close(w->fd);
    return;
  }
  w->result = w->fd;
}

static napi_value queue_connect(napi_env env, int family, const void *addr, size_t length, const char *name) {
  work_t *w = calloc(1, sizeof *w);
  char *copy = malloc(length);
  if (!w || !copy) {
    free(w);
    free(copy);
    return throw_errno(env, ENOMEM, "malloc");
  }
  memcpy(copy, addr, length);
  w->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (w->fd < 0) {
    int err = errno;
    free(w);
    free(copy);
    return throw_errno(env, err, "socket");
  }
  w->s1 = copy;
  w->result = (int)length;
  w->run = run_connect;
  return queue_work(env, w, name);
}

static napi_value vsock_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t cid, port;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_uint32(env, argv[0], &cid) != napi_ok || napi_get_value_uint32(env, argv[1], &port) != napi_ok) {
    return throw_type(env, "vsockConnect(cid: number, port: number)");
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
  return queue_connect(env, AF_VSOCK, &addr, sizeof addr, "berth.vsockConnect");
}

static napi_value unix_connect(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_buffer = false;
  void *data = NULL;
  size_t length = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_buffer_info(env, argv[0], &data, &length) != napi_ok) {
    return throw_type(env, "unixConnect(address: Buffer)");
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (length == 0 || length >= sizeof addr.sun_path) return throw_errno(env, ENAMETOOLONG, "connect");
  memcpy(addr.sun_path, data, length);
  return queue_connect(env, AF_UNIX, &addr, offsetof(struct sockaddr_un, sun_path) + length, "berth.unixConnect");
}

static napi_value receive_fd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  work_t *w = calloc(1, sizeof *w);
  if (!w || argc != 2 || napi_get_value_int32(env, argv[0], &w->fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &w->timeout_ms) != napi_ok || w->timeout_ms < 0) {
    free(w);
    return throw_type(env, "receiveFd(listenFd: number, timeoutMs: number)");
  }
  w->run = run_receive_fd;
  return queue_work(env, w, "berth.receiveFd");
}

/* ---- *at file operations on the thread pool ---- */

static void free_work(work_t *w) {
  if (!w) return;
  free(w->s1);
  free(w->s2);
  free(w->s3);
  free(w->s4);
  free(w);
}

/*
 * Reads a call's arguments into a work item by `spec`: 'd' a directory fd (w->fd), 's' a string without NUL
 * bytes (w->s1, then w->s2), 'n' an integer (w->args[0], [1], [2] in turn). False, with a TypeError naming
 * `signature`, when the arguments do not match.
 */
static bool work_args(napi_env env, napi_callback_info info, const char *spec, work_t *w, const char *signature) {
  size_t argc = 5;
  napi_value argv[5];
  size_t want = strlen(spec);
  char **strings[2] = {&w->s1, &w->s2};
  size_t ns = 0, nn = 0;
  bool ok = want <= 5 && napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
  for (size_t i = 0; ok && i < want; i++) {
    size_t length = 0;
    switch (spec[i]) {
      case 'd':
        ok = napi_get_value_int32(env, argv[i], &w->fd) == napi_ok;
        break;
      case 's':
        ok = ns < 2 && get_string_or_null(env, argv[i], strings[ns]) && *strings[ns] &&
             napi_get_value_string_utf8(env, argv[i], NULL, 0, &length) == napi_ok && strlen(*strings[ns]) == length;
        ns++;
        break;
      default:
        ok = nn < 3 && exact_int64(env, argv[i], &w->args[nn++]);
    }
  }
  if (!ok) throw_type(env, signature);
  return ok;
}

static void at_failed(work_t *w, int result, const char *syscall) {
  if (result < 0) {
    w->err = errno;
    w->syscall = syscall;
  }
}

static void run_openat2(work_t *w) {
  struct open_how how = {
      .flags = (uint64_t)w->args[0] | O_CLOEXEC, .mode = (uint64_t)w->args[1], .resolve = (uint64_t)w->args[2]};
  long fd;
  do {
    fd = syscall(SYS_openat2, w->fd, w->s1, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  at_failed(w, fd < 0 ? -1 : 0, "openat2");
  w->result = (int)fd;
}

static void run_mkdirat(work_t *w) { at_failed(w, mkdirat(w->fd, w->s1, (mode_t)w->args[0]), "mkdirat"); }

static void run_symlinkat(work_t *w) { at_failed(w, symlinkat(w->s1, w->fd, w->s2), "symlinkat"); }

static void run_renameat(work_t *w) { at_failed(w, renameat(w->fd, w->s1, w->fd, w->s2), "renameat"); }

static void run_unlinkat(work_t *w) { at_failed(w, unlinkat(w->fd, w->s1, (int)w->args[0]), "unlinkat"); }

static void run_fchownat(work_t *w) {
  at_failed(w, fchownat(w->fd, w->s1, (uid_t)w->args[0], (gid_t)w->args[1], (int)w->args[2]), "fchownat");
}

static napi_value queue_at(napi_env env, napi_callback_info info, const char *spec, work_fn run, const char *signature) {
  work_t *w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, ENOMEM, "calloc");
  if (!work_args(env, info, spec, w, signature)) {
    free_work(w);
    return NULL;
  }
  w->run = run;
  return queue_work(env, w, "berth.at");
}

static napi_value open_at2(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsnnn", run_openat2,
                  "openat2(dirFd: number, path: string, flags: number, mode: number, resolve: number)");
}

static napi_value mkdir_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsn", run_mkdirat, "mkdirat(dirFd: number, name: string, mode: number)");
}

static napi_value symlink_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "sds", run_symlinkat, "symlinkat(target: string, dirFd: number, name: string)");
}

static napi_value rename_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dss", run_renameat, "renameat(dirFd: number, from: string, to: string)");
}

static napi_value unlink_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsn", run_unlinkat, "unlinkat(dirFd: number, name: string, flags: number)");
}

static napi_value fchown_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsnnn", run_fchownat,
                  "fchownat(dirFd: number, name: string, uid: number, gid: number, flags: number)");
}

static napi_value fs_constants(napi_env env) {
  static const struct {
    const char *name;
    int32_t value;
  } table[] = {
      {"O_PATH", O_PATH},
      {"AT_FDCWD", AT_FDCWD},
      {"AT_REMOVEDIR", AT_REMOVEDIR},
      {"AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW},
      {"RESOLVE_BENEATH", RESOLVE_BENEATH},
      {"RESOLVE_NO_SYMLINKS", RESOLVE_NO_SYMLINKS},
      {"RESOLVE_NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS},
  };
  napi_value out;
  napi_create_object(env, &out);
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    napi_set_named_property(env, out, table[i].name, int_value(env, table[i].value));
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
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
      {"eventfd", NULL, make_eventfd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollReadable", NULL, poll_readable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setChildSubreaper", NULL, set_child_subreaper, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reapChildren", NULL, reap_children, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mount", NULL, do_mount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"umount", NULL, do_umount, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receiveFd", NULL, receive_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setTimeOfDay", NULL, set_time_of_day, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openat2", NULL, open_at2, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mkdirat", NULL, mkdir_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"symlinkat", NULL, symlink_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"renameat", NULL, rename_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unlinkat", NULL, unlink_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fchownat", NULL, fchown_at, NULL, NULL, NULL, napi_enumerable, NULL},
      {"constants", NULL, NULL, NULL, NULL, fs_constants(env), napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
