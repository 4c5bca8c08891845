/*
 * berth's native surface: the few Linux calls Node.js cannot make. Every function is a thin, synchronous
 * wrapper over one or two syscalls; policy stays in TypeScript (src/sys/native.ts).
 *
 *   vsockListen(cid, port, backlog) -> fd   AF_VSOCK stream socket, bound and listening
 *   unixListen(address, backlog)    -> fd   AF_UNIX stream socket; a leading NUL byte makes it abstract
 *
 * Sockets are created non-blocking and close-on-exec. Failures throw an Error whose `code` is the errno
 * name ("EADDRINUSE") and whose `syscall` names the call that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vm_sockets.h>
#include <node_api.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static napi_value throw_errno(napi_env env, int err, const char *syscall) {
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
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

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

static napi_value fd_result(napi_env env, int fd, const char *failed) {
  if (fd < 0) return throw_errno(env, errno, failed);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
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
  return fd_result(env, fd, failed);
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
  return fd_result(env, fd, failed);
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"vsockListen", NULL, vsock_listen, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unixListen", NULL, unix_listen, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
