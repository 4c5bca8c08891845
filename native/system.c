#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdlib.h>
#include <limits.h>
#include <malloc.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

napi_value set_child_subreaper(napi_env env, napi_callback_info info) {
  (void)info;
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) return throw_errno(env, errno, "prctl");
  return NULL;
}

/* malloc_trim(0): the C heap's free pages back to the kernel; true when any were. */
napi_value trim_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
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
 * libuv has collected it. Each entry is [pid, exitCode, signal] (one of the last two is -1). A waitid error
 * after some children were reaped ends the scan with those (their statuses exist nowhere else); a lasting
 * error is thrown by the next call, which meets it before reaping anything.
 */
napi_value reap_children(napi_env env, napi_callback_info info) {
  size_t length = 0;
  void *data = NULL;
  if (!typed_array_arg(env, info, napi_int32_array, &data, &length)) {
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
      if (count > 0) break;
      return throw_errno(env, errno, "waitid");
    }
    if (si.si_pid == 0) break;
    if (contains((const int32_t *)data, length, si.si_pid)) {
      blocked = true;
      break;
    }
    siginfo_t done;
    memset(&done, 0, sizeof done);
    int reaped_one;
    do {
      reaped_one = waitid(P_PID, (id_t)si.si_pid, &done, WEXITED);
    } while (reaped_one < 0 && errno == EINTR);
    if (reaped_one < 0) {
      if (count > 0) break;
      return throw_errno(env, errno, "waitid");
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

/* The one string argument, by get_string_into; false (TypeError thrown) if it is not one that fits. */
static bool string_arg(napi_env env, napi_callback_info info, char *buf, size_t size, size_t *length, const char *signature) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      !get_string_into(env, argv[0], buf, size, length)) {
    throw_type(env, signature);
    return false;
  }
  return true;
}

napi_value set_hostname(napi_env env, napi_callback_info info) {
  char name[HOST_NAME_MAX + 1];
  size_t length = 0;
  if (!string_arg(env, info, name, sizeof name, &length, "setHostname(name: string of at most 64 bytes)")) return NULL;
  if (sethostname(name, length) < 0) return throw_errno(env, errno, "sethostname");
  return NULL;
}

napi_value interface_up(napi_env env, napi_callback_info info) {
  struct ifreq req;
  memset(&req, 0, sizeof req);
  size_t length = 0;
  if (!string_arg(env, info, req.ifr_name, sizeof req.ifr_name, &length, "interfaceUp(name: string of at most 15 bytes)")) return NULL;
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

napi_value shutdown_system(napi_env env, napi_callback_info info) {
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

napi_value set_time_of_day(napi_env env, napi_callback_info info) {
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

/*
 * Mixes `data` into the kernel's entropy pool, credited as 8 bits a byte (RNDADDENTROPY: the caller vouches
 * for it), then makes the CRNG reseed from the pool at once (RNDRESEEDCRNG) rather than at its next
 * scheduled reseed. The copy handed to the kernel is wiped before it is freed.
 */
napi_value add_entropy(napi_env env, napi_callback_info info) {
  size_t length = 0;
  void *data = NULL;
  if (!typed_array_arg(env, info, napi_uint8_array, &data, &length) || length == 0 || length > INT_MAX / 8) {
    return throw_type(env, "addEntropy(data: non-empty Uint8Array)");
  }
  struct rand_pool_info *pool = malloc(sizeof *pool + length);
  if (pool == NULL) return throw_errno(env, ENOMEM, "malloc");
  pool->entropy_count = (int)(length * 8);
  pool->buf_size = (int)length;
  memcpy(pool->buf, data, length);
  int fd = open("/dev/random", O_WRONLY | O_CLOEXEC);
  int err = 0;
  const char *call = "open";
  if (fd < 0) {
    err = errno;
  } else {
    if (ioctl(fd, RNDADDENTROPY, pool) < 0) {
      err = errno;
      call = "ioctl(RNDADDENTROPY)";
    } else if (ioctl(fd, RNDRESEEDCRNG) < 0) {
      err = errno;
      call = "ioctl(RNDRESEEDCRNG)";
    }
    close(fd);
  }
  explicit_bzero(pool->buf, length);
  free(pool);
  if (err != 0) return throw_errno(env, err, call);
  return NULL;
}
