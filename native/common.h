/* Private to the addon: what its files share, and each file's functions for addon.c's export table. */
#ifndef BERTH_NATIVE_COMMON_H
#define BERTH_NATIVE_COMMON_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/* Hidden: the addon exports only its module entry point, and no name here can bind to one of Node's symbols. */
#pragma GCC visibility push(hidden)

/* An Error whose `code` is err's name, with `syscall` and `errno` (negative) set as Node sets them. */
napi_value errno_error(napi_env env, int err, const char *syscall);
/* Throws errno_error; returns NULL, for `return throw_errno(...)`. */
napi_value throw_errno(napi_env env, int err, const char *syscall);
/* Throws a TypeError (code ERR_INVALID_ARG_TYPE) whose message is the call's expected signature; returns NULL. */
napi_value throw_type(napi_env env, const char *message);
napi_value int_value(napi_env env, int32_t v);
/*
 * Every string argument that reaches a syscall is read by one of these two, which refuse a NUL inside it (the
 * kernel would see only the part before it).
 * A string argument, or NULL for JS null/undefined; malloc'd, caller frees.
 */
bool get_string_or_null(napi_env env, napi_value value, char **out);
/* A string argument of at most size - 1 bytes, copied into buf with its NUL. */
bool get_string_into(napi_env env, napi_value value, char *buf, size_t size, size_t *length);
/* An integer-valued JS number (no NaN, fraction or infinity): a bad value must never reach settimeofday as 0. */
bool exact_int64(napi_env env, napi_value value, int64_t *out);
/* exact_int64 in min..max: a number is refused, never truncated or wrapped into the C type it becomes. */
bool exact_in_range(napi_env env, napi_value value, int64_t min, int64_t max, int64_t *out);

/* Reads exactly `count` (at most 3) int32 arguments; false, with a TypeError naming `signature` thrown, otherwise. */
bool int_args(napi_env env, napi_callback_info info, size_t count, int32_t *out, const char *signature);
/* The one argument of a call, a typed array of type `want`: its elements and their count; false if it is not. */
bool typed_array_arg(napi_env env, napi_callback_info info, napi_typedarray_type want, void **data, size_t *length);
/* Sets O_NONBLOCK on fd's file description; -1 with errno on failure. */
int set_nonblock(int fd);

/*
 * A call run on libuv's thread pool, settling a Promise: run() sets err and syscall on failure, else result
 * (the Promise's value). The other fields are run's arguments; the strings are freed with the item, and so is
 * fd while owns_fd is set (run clears it when it takes the fd: an item never run must not leak it).
 */
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
  bool owns_fd;
  int64_t args[3];
};

/*
 * Queues w (calloc'd, run set) and returns its Promise; w is freed once it settles. Should Node fail to queue
 * it, the Promise rejects (or, with no Promise, an Error is thrown) and w is freed at once.
 */
napi_value queue_work(napi_env env, work_t *w, const char *name);
/* Frees w, its strings and an fd it owns (w may be NULL): for an item whose arguments failed before it was queued. */
void free_work(work_t *w);

/* sockets.c */
napi_value vsock_listen(napi_env env, napi_callback_info info);
napi_value unix_listen(napi_env env, napi_callback_info info);
napi_value vsock_connect(napi_env env, napi_callback_info info);
napi_value unix_connect(napi_env env, napi_callback_info info);
napi_value accept_connection(napi_env env, napi_callback_info info);
napi_value receive_fd(napi_env env, napi_callback_info info);

/* spawn.c */
napi_value spawn_process(napi_env env, napi_callback_info info);
napi_value reap_process(napi_env env, napi_callback_info info);

/* fds.c */
napi_value make_pipe(napi_env env, napi_callback_info info);
napi_value dup_fd(napi_env env, napi_callback_info info);
napi_value set_window_size(napi_env env, napi_callback_info info);
napi_value set_pipe_size(napi_env env, napi_callback_info info);
napi_value readable_bytes(napi_env env, napi_callback_info info);
napi_value set_non_blocking(napi_env env, napi_callback_info info);
napi_value mounts_changed(napi_env env, napi_callback_info info);

/* system.c */
napi_value set_child_subreaper(napi_env env, napi_callback_info info);
napi_value trim_memory(napi_env env, napi_callback_info info);
napi_value reap_children(napi_env env, napi_callback_info info);
napi_value set_hostname(napi_env env, napi_callback_info info);
napi_value interface_up(napi_env env, napi_callback_info info);
napi_value shutdown_system(napi_env env, napi_callback_info info);
napi_value set_time_of_day(napi_env env, napi_callback_info info);
napi_value add_entropy(napi_env env, napi_callback_info info);

/* mount.c */
napi_value do_mount(napi_env env, napi_callback_info info);
napi_value do_umount(napi_env env, napi_callback_info info);

/* fs_at.c */
napi_value open_at2(napi_env env, napi_callback_info info);
napi_value mkdir_at(napi_env env, napi_callback_info info);
napi_value symlink_at(napi_env env, napi_callback_info info);
napi_value rename_at(napi_env env, napi_callback_info info);
napi_value unlink_at(napi_env env, napi_callback_info info);
napi_value fchown_at(napi_env env, napi_callback_info info);
/* The `constants` object: O_PATH, AT_*, RESOLVE_* from the headers this was built against. */
napi_value fs_constants(napi_env env);

/* netlink.c */
napi_value netlink_open(napi_env env, napi_callback_info info);
napi_value netlink_send(napi_env env, napi_callback_info info);
napi_value netlink_receive(napi_env env, napi_callback_info info);

/* poll.c */
napi_value make_eventfd(napi_env env, napi_callback_info info);
napi_value poll_fd(napi_env env, napi_callback_info info);
/* Adds POLL_READABLE and POLL_WRITABLE (libuv's event bits, for pollFd) to the `constants` object. */
void add_poll_constants(napi_env env, napi_value constants);

#pragma GCC visibility pop

#endif
