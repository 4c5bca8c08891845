#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common.h"

napi_value make_pipe(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return throw_errno(env, errno, "pipe2");
  napi_value out;
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, int_value(env, fds[0]));
  napi_set_element(env, out, 1, int_value(env, fds[1]));
  return out;
}


napi_value dup_fd(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "dup(fd: number)")) return NULL;
  int fd = fcntl(a[0], F_DUPFD_CLOEXEC, 0);
  return fd < 0 ? throw_errno(env, errno, "fcntl") : int_value(env, fd);
}

napi_value set_window_size(napi_env env, napi_callback_info info) {
  int32_t a[3];
  if (!int_args(env, info, 3, a, "setWindowSize(fd: number, rows: number, columns: number)")) return NULL;
  if (a[1] < 0 || a[1] > 0xffff || a[2] < 0 || a[2] > 0xffff) return throw_errno(env, EINVAL, "ioctl");
  struct winsize size = {.ws_row = (unsigned short)a[1], .ws_col = (unsigned short)a[2]};
  if (ioctl(a[0], TIOCSWINSZ, &size) < 0) return throw_errno(env, errno, "ioctl");
  return NULL;
}

napi_value set_pipe_size(napi_env env, napi_callback_info info) {
  int32_t a[2];
  if (!int_args(env, info, 2, a, "setPipeSize(fd: number, bytes: number)")) return NULL;
  int size = fcntl(a[0], F_SETPIPE_SZ, a[1]);
  return size < 0 ? throw_errno(env, errno, "fcntl") : int_value(env, size);
}

napi_value readable_bytes(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "readableBytes(fd: number)")) return NULL;
  int n = 0;
  if (ioctl(a[0], FIONREAD, &n) < 0) return throw_errno(env, errno, "ioctl");
  return int_value(env, n);
}

napi_value set_non_blocking(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "setNonBlocking(fd: number)")) return NULL;
  return set_nonblock(a[0]) < 0 ? throw_errno(env, errno, "fcntl") : NULL;
}

/*
 * poll(2) with no wait on an fd of /proc/<pid>/mountinfo: true when its mount namespace's table changed
 * since the fd was opened or last asked (the kernel keeps that per open file, and this call moves it on).
 */
napi_value mounts_changed(napi_env env, napi_callback_info info) {
  int32_t a[1];
  if (!int_args(env, info, 1, a, "mountsChanged(fd: number)")) return NULL;
  struct pollfd p = {.fd = a[0], .events = POLLPRI};
  int n;
  do n = poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, errno, "poll");
  if (p.revents & POLLNVAL) return throw_errno(env, EBADF, "poll");
  napi_value out;
  napi_get_boolean(env, (p.revents & (POLLPRI | POLLERR)) != 0, &out);
  return out;
}
