#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include "common.h"

napi_value make_eventfd(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd < 0 ? throw_errno(env, errno, "eventfd") : int_value(env, fd);
}

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

napi_value poll_readable(napi_env env, napi_callback_info info) {
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
