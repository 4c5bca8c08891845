/*
 * The *at calls run on the thread pool because the directories they act on may be a virtio-fs share, where
 * a slow host would otherwise stall the event loop; they are what lets src/sys/beneath.ts keep every write
 * of CopyFile inside one directory, resolved by the kernel (openat2 RESOLVE_BENEATH), never by path strings.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

/*
 * Reads a call's arguments into a work item by `spec`: 'd' a directory fd (w->fd), 's' a string without NUL
 * bytes (w->s1, then w->s2), an integer (w->args[0], [1], [2] in turn): 'n' any, 'i' an int (flags), 'u' a
 * 32-bit unsigned (mode, uid, gid). False, with a TypeError naming `signature`, when the arguments do not match.
 */
static bool work_args(napi_env env, napi_callback_info info, const char *spec, work_t *w, const char *signature) {
  size_t argc = 5;
  napi_value argv[5];
  size_t want = strlen(spec);
  char **strings[2] = {&w->s1, &w->s2};
  size_t ns = 0, nn = 0;
  bool ok = want <= 5 && napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == want;
  for (size_t i = 0; ok && i < want; i++) {
    switch (spec[i]) {
      case 'd':
        ok = napi_get_value_int32(env, argv[i], &w->fd) == napi_ok;
        break;
      case 's':
        ok = ns < 2 && get_string_or_null(env, argv[i], strings[ns]) && *strings[ns];
        ns++;
        break;
      case 'i':
        ok = nn < 3 && exact_in_range(env, argv[i], INT_MIN, INT_MAX, &w->args[nn++]);
        break;
      case 'u':
        ok = nn < 3 && exact_in_range(env, argv[i], 0, UINT32_MAX, &w->args[nn++]);
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

napi_value open_at2(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsnnn", run_openat2,
                  "openat2(dirFd: number, path: string, flags: number, mode: number, resolve: number)");
}

napi_value mkdir_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsu", run_mkdirat, "mkdirat(dirFd: number, name: string, mode: number)");
}

napi_value symlink_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "sds", run_symlinkat, "symlinkat(target: string, dirFd: number, name: string)");
}

napi_value rename_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dss", run_renameat, "renameat(dirFd: number, from: string, to: string)");
}

napi_value unlink_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsi", run_unlinkat, "unlinkat(dirFd: number, name: string, flags: number)");
}

napi_value fchown_at(napi_env env, napi_callback_info info) {
  return queue_at(env, info, "dsuui", run_fchownat,
                  "fchownat(dirFd: number, name: string, uid: number, gid: number, flags: number)");
}

napi_value fs_constants(napi_env env) {
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
