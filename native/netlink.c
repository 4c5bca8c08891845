#define _GNU_SOURCE

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

/*
 * A netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_KOBJECT_UEVENT, …), non-blocking and close-on-exec,
 * bound with a kernel-chosen port to the multicast `groups` (a bit mask; 0 for none), its receive buffer set to
 * `receive_bytes` (SO_RCVBUFFORCE, which root may raise past rmem_max; SO_RCVBUF otherwise). Extended acks
 * (the kernel's text for a refused request) and strict dump checking are asked for where the kernel has them.
 */
napi_value netlink_open(napi_env env, napi_callback_info info) {
  int32_t args[3];
  if (!int_args(env, info, 3, args, "netlinkOpen(protocol: number, groups: number, receiveBytes: number)")) return NULL;
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, args[0]);
  if (fd < 0) return throw_errno(env, errno, "socket");
  const char *failed = NULL;
  int size = args[2];
  if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0) {
    failed = "setsockopt";
  } else {
    int on = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    if (args[0] == NETLINK_ROUTE) setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on);
    struct sockaddr_nl addr = {.nl_family = AF_NETLINK, .nl_groups = (uint32_t)args[1]};
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) failed = "bind";
  }
  if (failed) {
    int saved = errno;
    close(fd);
    return throw_errno(env, saved, failed);
  }
  return int_value(env, fd);
}

static bool buffer_arg(napi_env env, napi_value value, void **data, size_t *length) {
  bool is_buffer = false;
  return napi_is_buffer(env, value, &is_buffer) == napi_ok && is_buffer &&
         napi_get_buffer_info(env, value, data, length) == napi_ok;
}

static bool fd_and_buffer(napi_env env, napi_callback_info info, int32_t *fd, void **data, size_t *length,
                          const char *signature) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 ||
      napi_get_value_int32(env, argv[0], fd) != napi_ok || !buffer_arg(env, argv[1], data, length)) {
    throw_type(env, signature);
    return false;
  }
  return true;
}

/* Sends one datagram to the kernel; false when the socket's send buffer is full (EAGAIN). */
napi_value netlink_send(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t length;
  if (!fd_and_buffer(env, info, &fd, &data, &length, "netlinkSend(fd: number, datagram: Buffer)")) return NULL;
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t n;
  do {
    n = sendto(fd, data, length, MSG_DONTWAIT, (struct sockaddr *)&kernel, sizeof kernel);
  } while (n < 0 && errno == EINTR);
  napi_value out;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    napi_get_boolean(env, false, &out);
    return out;
  }
  if (n < 0) return throw_errno(env, errno, "sendto");
  napi_get_boolean(env, true, &out);
  return out;
}

/*
 * Receives one datagram into `buffer`: [its full length, the sender's port (0 for the kernel)], or null when
 * none is waiting. A length past the buffer's means the datagram was cut (MSG_TRUNC). A receive queue that
 * overflowed since the last call throws ENOBUFS once (the datagrams lost are gone).
 */
napi_value netlink_receive(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t length;
  if (!fd_and_buffer(env, info, &fd, &data, &length, "netlinkReceive(fd: number, buffer: Buffer)")) return NULL;
  struct sockaddr_nl from;
  struct iovec iov = {.iov_base = data, .iov_len = length};
  struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
  ssize_t n;
  do {
    n = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    napi_value null;
    napi_get_null(env, &null);
    return null;
  }
  if (n < 0) return throw_errno(env, errno, "recvmsg");
  napi_value out, size, port;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int64(env, n, &size);
  napi_create_uint32(env, msg.msg_namelen >= sizeof from ? from.nl_pid : 0, &port);
  napi_set_element(env, out, 0, size);
  napi_set_element(env, out, 1, port);
  return out;
}
