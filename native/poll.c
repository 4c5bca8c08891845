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
 * delivered here, and unregistered by stop()). The events polled for can change (setEvents; none pauses
 * the poll, without closing anything); stop() (or the environment's teardown) ends it. The struct is freed
 * once the handle is closed and the JS object has been collected, whichever comes last.
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
} fd_watch_t;

/* The last use of w may be removing the hook: at teardown that releases the env, whose finalizers free w. */
static void watch_closed(uv_handle_t *handle) {
  fd_watch_t *w = handle->data;
  napi_async_cleanup_hook_handle teardown = w->teardown;
  w->closed = true;
  if (w->finalized) free(w);
  if (teardown) napi_remove_async_cleanup_hook(teardown);
}

static void watch_close(fd_watch_t *w) {
  w->stopped = true;
  uv_poll_stop(&w->poll);
  uv_close((uv_handle_t *)&w->poll, watch_closed);
  close(w->fd);
}

/* At the environment's teardown its references go with it: only the handle is left to close. */
static void watch_teardown(napi_async_cleanup_hook_handle handle, void *data) {
  (void)handle;
  fd_watch_t *w = data;
  if (!w->stopped) watch_close(w);
}

static void watch_stop(fd_watch_t *w) {
  if (w->stopped) return;
  napi_delete_reference(w->env, w->callback);
  napi_async_destroy(w->env, w->context);
  watch_close(w);
}

static void watch_ready(uv_poll_t *handle, int status, int events) {
  (void)events;
  fd_watch_t *w = handle->data;
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

/* Polls for `events` (0 stops polling, which a later call may start again); libuv's error, if any. */
static int watch_events(fd_watch_t *w, int32_t events) {
  if (events == 0) return uv_poll_stop(&w->poll);
  return uv_poll_start(&w->poll, events, watch_ready);
}

static bool poll_events_arg(napi_env env, napi_value value, int32_t *events) {
  return napi_get_value_int32(env, value, events) == napi_ok && (*events & ~(UV_READABLE | UV_WRITABLE)) == 0;
}

/* The watch a method was called on (its `this`); NULL, with a TypeError thrown, for any other receiver. */
static fd_watch_t *this_watch(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv, const char *signature) {
  napi_value self;
  void *data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok || napi_unwrap(env, self, &data) != napi_ok ||
      !data) {
    throw_type(env, signature);
    return NULL;
  }
  return data;
}

static napi_value poll_set_events(napi_env env, napi_callback_info info) {
  static const char signature[] = "FdPoll.setEvents(events: POLL_READABLE | POLL_WRITABLE | 0)";
  size_t argc = 1;
  napi_value argv[1];
  int32_t events;
  fd_watch_t *w = this_watch(env, info, &argc, argv, signature);
  if (!w) return NULL;
  if (argc != 1 || !poll_events_arg(env, argv[0], &events)) return throw_type(env, signature);
  if (w->stopped) return NULL;
  int err = watch_events(w, events);
  return err < 0 ? throw_errno(env, -err, "uv_poll_start") : NULL;
}

static napi_value poll_stop(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  fd_watch_t *w = this_watch(env, info, &argc, NULL, "FdPoll.stop()");
  if (w) watch_stop(w);
  return NULL;
}

static void finalize_watch(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  fd_watch_t *w = data;
  w->finalized = true;
  if (w->closed) free(w);
}

napi_value poll_fd(napi_env env, napi_callback_info info) {
  static const char signature[] =
      "pollFd(fd: number, events: POLL_READABLE | POLL_WRITABLE | 0, onReady: (error?: Error) => void)";
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd, events;
  napi_valuetype type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || !poll_events_arg(env, argv[1], &events) ||
      napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
    return throw_type(env, signature);
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return throw_errno(env, EINVAL, "uv_poll_init");
  napi_value object;
  if (napi_create_object(env, &object) != napi_ok) return throw_errno(env, ENOMEM, "napi_create_object");
  fd_watch_t *w = calloc(1, sizeof *w);
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
  napi_value name;
  napi_create_string_utf8(env, "berth.pollFd", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_create_reference(env, argv[2], 1, &w->callback);
  err = watch_events(w, events);
  if (err < 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    w->finalized = true;
    watch_close(w);
    return throw_errno(env, -err, "uv_poll_start");
  }
  uv_unref((uv_handle_t *)&w->poll);
  napi_add_async_cleanup_hook(env, watch_teardown, w, &w->teardown);
  napi_property_descriptor methods[] = {
      {"setEvents", NULL, poll_set_events, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, poll_stop, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, object, 2, methods);
  if (napi_wrap(env, object, w, finalize_watch, NULL, NULL) != napi_ok) {
    watch_stop(w);
    w->finalized = true;
    return throw_errno(env, ENOMEM, "napi_wrap");
  }
  return object;
}

void add_poll_constants(napi_env env, napi_value constants) {
  napi_set_named_property(env, constants, "POLL_READABLE", int_value(env, UV_READABLE));
  napi_set_named_property(env, constants, "POLL_WRITABLE", int_value(env, UV_WRITABLE));
}
