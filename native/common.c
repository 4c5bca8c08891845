#define _GNU_SOURCE

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

napi_value errno_error(napi_env env, int err, const char *syscall) {
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
  return error;
}

napi_value throw_errno(napi_env env, int err, const char *syscall) {
  napi_throw(env, errno_error(env, err, syscall));
  return NULL;
}

napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

bool get_string_or_null(napi_env env, napi_value value, char **out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_null || type == napi_undefined) {
    *out = NULL;
    return true;
  }
  size_t length;
  if (type != napi_string || napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return false;
  *out = malloc(length + 1);
  if (!*out) return false;
  napi_get_value_string_utf8(env, value, *out, length + 1, &length);
  if (strlen(*out) == length) return true;
  free(*out);
  *out = NULL;
  return false;
}

bool get_string_into(napi_env env, napi_value value, char *buf, size_t size, size_t *length) {
  return napi_get_value_string_utf8(env, value, NULL, 0, length) == napi_ok && *length < size &&
         napi_get_value_string_utf8(env, value, buf, size, length) == napi_ok && strlen(buf) == *length;
}

bool exact_int64(napi_env env, napi_value value, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || !isfinite(d) || d != trunc(d) || fabs(d) > 9007199254740991.0) {
    return false;
  }
  *out = (int64_t)d;
  return true;
}

bool exact_in_range(napi_env env, napi_value value, int64_t min, int64_t max, int64_t *out) {
  return exact_int64(env, value, out) && *out >= min && *out <= max;
}

void free_work(work_t *w) {
  if (!w) return;
  if (w->owns_fd) close(w->fd);
  free(w->s1);
  free(w->s2);
  free(w->s3);
  free(w->s4);
  free(w);
}

static void work_execute(napi_env env, void *data) {
  (void)env;
  work_t *w = data;
  w->run(w);
}

static napi_value plain_error(napi_env env, const char *message) {
  napi_value msg, error;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  return error;
}

static void work_complete(napi_env env, napi_status status, void *data) {
  work_t *w = data;
  if (status != napi_ok) {
    napi_reject_deferred(env, w->deferred, plain_error(env, "native work was cancelled"));
  } else if (w->err) {
    napi_reject_deferred(env, w->deferred, errno_error(env, w->err, w->syscall));
  } else {
    napi_resolve_deferred(env, w->deferred, int_value(env, w->result));
  }
  napi_delete_async_work(env, w->handle);
  free_work(w);
}

napi_value queue_work(napi_env env, work_t *w, const char *name) {
  napi_value promise = NULL, resource_name;
  napi_status status = napi_create_promise(env, &w->deferred, &promise);
  if (status == napi_ok) status = napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name);
  if (status == napi_ok) {
    status = napi_create_async_work(env, NULL, resource_name, work_execute, work_complete, w, &w->handle);
  }
  if (status == napi_ok) status = napi_queue_async_work(env, w->handle);
  if (status == napi_ok) return promise;
  if (w->handle) napi_delete_async_work(env, w->handle);
  napi_value error = plain_error(env, "native work could not be queued");
  if (promise) {
    napi_reject_deferred(env, w->deferred, error);
  } else {
    napi_throw(env, error);
  }
  free_work(w);
  return promise;
}

/* Exactly `count` int32 arguments, or a TypeError naming `signature` (false). */
bool int_args(napi_env env, napi_callback_info info, size_t count, int32_t *out, const char *signature) {
  size_t argc = 3;
  napi_value argv[3];
  if (count > 3 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count) {
    throw_type(env, signature);
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_int32(env, argv[i], &out[i]) != napi_ok) {
      throw_type(env, signature);
      return false;
    }
  }
  return true;
}

bool typed_array_arg(napi_env env, napi_callback_info info, napi_typedarray_type want, void **data, size_t *length) {
  size_t argc = 1;
  napi_value argv[1];
  bool is_typed = false;
  napi_typedarray_type type;
  return napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 1 &&
         napi_is_typedarray(env, argv[0], &is_typed) == napi_ok && is_typed &&
         napi_get_typedarray_info(env, argv[0], &type, length, data, NULL, NULL) == napi_ok && type == want;
}

int set_nonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}
