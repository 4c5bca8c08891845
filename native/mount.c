#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>

#include "common.h"

static void run_mount(work_t *w) {
  if (mount(w->s1, w->s2, w->s3, w->flags, w->s4) < 0) {
    w->err = errno;
    w->syscall = "mount";
  }
}

napi_value do_mount(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  work_t *w = calloc(1, sizeof *w);
  int64_t flags;
  if (!w || argc != 5 || !get_string_or_null(env, argv[0], &w->s1) || !get_string_or_null(env, argv[1], &w->s2) ||
      !w->s2 || !get_string_or_null(env, argv[2], &w->s3) || !exact_in_range(env, argv[3], 0, INT64_MAX, &flags) ||
      !get_string_or_null(env, argv[4], &w->s4)) {
    free_work(w);
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

napi_value do_umount(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  work_t *w = calloc(1, sizeof *w);
  int64_t flags;
  if (!w || argc != 2 || !get_string_or_null(env, argv[0], &w->s1) || !w->s1 ||
      !exact_in_range(env, argv[1], INT_MIN, INT_MAX, &flags)) {
    free_work(w);
    return throw_type(env, "umount(target: string, flags: number)");
  }
  w->flags = (unsigned long)flags;
  w->run = run_umount;
  return queue_work(env, w, "berth.umount");
}
