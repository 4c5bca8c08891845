#define _GNU_SOURCE

#include <errno.h>
#include <linux/vm_sockets.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common.h"

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

/* A vsock cid or port: 0..2^32-1, or -1 for the kernel's "any" (VMADDR_CID_ANY, VMADDR_PORT_ANY). */
static bool vsock_u32(napi_env env, napi_value value, uint32_t *out) {
  int64_t v;
  if (!exact_in_range(env, value, -1, UINT32_MAX, &v)) return false;
  *out = v < 0 ? UINT32_MAX : (uint32_t)v;
  return true;
}

napi_value vsock_listen(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t cid, port;
  int32_t backlog;
  if (argc != 3 || !vsock_u32(env, argv[0], &cid) || !vsock_u32(env, argv[1], &port) ||
      napi_get_value_int32(env, argv[2], &backlog) != napi_ok) {
    return throw_type(env, "vsockListen(cid: number, port: number, backlog: number)");
  }
  struct sockaddr_vm addr;
  memset(&addr, 0, sizeof addr);
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = cid;
  addr.svm_port = port;
  const char *failed = NULL;
  int fd = bind_listen(AF_VSOCK, (struct sockaddr *)&addr, sizeof addr, backlog, &failed);
  return fd < 0 ? throw_errno(env, errno, failed) : int_value(env, fd);
}

/* A path needs room for its NUL in sun_path; an abstract name (a leading NUL) may fill it, as the kernel allows. */
static bool fits_sun_path(const char *address, size_t length) {
  size_t size = sizeof ((struct sockaddr_un *)0)->sun_path;
  return length > 0 && (length < size || (length == size && address[0] == '\0'));
}

/* An abstract name (a leading NUL) may hold any bytes; a path must not hold a NUL, where the kernel would cut it. */
static bool path_without_nul(const char *address, size_t length) {
  return address[0] == '\0' || memchr(address, '\0', length) == NULL;
}

napi_value unix_listen(napi_env env, napi_callback_info info) {
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
  if (!fits_sun_path(data, length)) return throw_errno(env, ENAMETOOLONG, "bind");
  if (!path_without_nul(data, length)) return throw_type(env, "unixListen(address: Buffer, backlog: number)");
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, data, length);
  const char *failed = NULL;
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + length + (addr.sun_path[0] ? 1 : 0));
  int fd = bind_listen(AF_UNIX, (struct sockaddr *)&addr, len, backlog, &failed);
  return fd < 0 ? throw_errno(env, errno, failed) : int_value(env, fd);
}

/* Connects w->fd (already created) to the address in w->s1 (w->result holds its length). */
static void run_connect(work_t *w) {
  w->owns_fd = false;
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
  w->owns_fd = true;
  w->s1 = copy;
  w->result = (int)length;
  w->run = run_connect;
  return queue_work(env, w, name);
}

napi_value vsock_connect(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  uint32_t cid, port;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      !vsock_u32(env, argv[0], &cid) || !vsock_u32(env, argv[1], &port)) {
    return throw_type(env, "vsockConnect(cid: number, port: number)");
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port};
  return queue_connect(env, AF_VSOCK, &addr, sizeof addr, "berth.vsockConnect");
}

napi_value unix_connect(napi_env env, napi_callback_info info) {
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
  if (!fits_sun_path(data, length)) return throw_errno(env, ENAMETOOLONG, "connect");
  if (!path_without_nul(data, length)) return throw_type(env, "unixConnect(address: Buffer)");
  memcpy(addr.sun_path, data, length);
  return queue_connect(env, AF_UNIX, &addr, offsetof(struct sockaddr_un, sun_path) + length, "berth.unixConnect");
}

/* Closes every fd an SCM_RIGHTS message put in this process: a rejected message must not leak them. */
static void close_received(struct msghdr *msg) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      close(fd);
    }
  }
}

static napi_value null_value(napi_env env) {
  napi_value out;
  napi_get_null(env, &out);
  return out;
}

/* One pending connection of a listening socket, non-blocking and close-on-exec; null when none is waiting. */
napi_value accept_connection(napi_env env, napi_callback_info info) {
  int32_t listen_fd;
  if (!int_args(env, info, 1, &listen_fd, "acceptConnection(listenFd: number)")) return NULL;
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return int_value(env, fd);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return null_value(env);
    return throw_errno(env, errno, "accept4");
  }
}

/*
 * The one fd (SCM_RIGHTS) a connected unix socket sends, as runc sends the pty master on --console-socket;
 * null when nothing has arrived yet (the socket must be non-blocking, or this waits). The fd comes back
 * close-on-exec and non-blocking (O_NONBLOCK on its file description: berth never reads or writes a
 * blocking fd on its event loop). End of stream, or a message without exactly one fd, is EBADMSG: the
 * fds of a message with more that fit the control buffer are closed here, and those that do not
 * (MSG_CTRUNC) the kernel never installs.
 */
napi_value receive_fd(napi_env env, napi_callback_info info) {
  int32_t conn;
  if (!int_args(env, info, 1, &conn, "receiveFd(socketFd: number)")) return NULL;
  char byte[64];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = byte, .iov_len = sizeof byte};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  do {
    n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return null_value(env);
  if (n < 0) return throw_errno(env, errno, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)) ||
      (msg.msg_flags & MSG_CTRUNC)) {
    close_received(&msg);
    return throw_errno(env, EBADMSG, "recvmsg");
  }
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  if (set_nonblock(fd) < 0) {
    int saved = errno;
    close(fd);
    return throw_errno(env, saved, "fcntl");
  }
  return int_value(env, fd);
}
