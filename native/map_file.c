// mapFile(path: string) -> Buffer: the whole file mapped read-only and shared, so its pages stay the OS page
// cache's (one copy for every process that maps it, none on the JavaScript heap), advised for random access
// (a request reads one user's row), and unmapped when the buffer is collected. An empty file gives an empty
// buffer. Errors throw with the file's path and the system's reason.
#define _GNU_SOURCE
#include "map_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

void unmap_finalizer(napi_env env, void *data, void *bytes) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)bytes);
}

// Throws "mapFile: <what> <path>: <reason>", the error's `errno` set to the system's number.
static napi_value fail(napi_env env, const char *what, const char *path, int err) {
  char message[512];
  snprintf(message, sizeof message, "mapFile: %s %s: %s", what, path, strerror(err));
  napi_value text, error;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text) == napi_ok && napi_create_error(env, NULL, text, &error) == napi_ok) {
    napi_value no;
    if (napi_create_int32(env, err, &no) == napi_ok) napi_set_named_property(env, error, "errno", no);
    napi_throw(env, error);
  } else {
    napi_throw_error(env, NULL, message);
  }
  return NULL;
}

// The first argument as a NUL-terminated string (malloc'd), or NULL after throwing a TypeError.
static char *path_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1, length;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &length) != napi_ok || length == 0) {
    napi_throw_type_error(env, NULL, "mapFile: the path must be a non-empty string");
    return NULL;
  }
  char *path = malloc(length + 1);
  if (!path || napi_get_value_string_utf8(env, argv[0], path, length + 1, &length) != napi_ok) {
    free(path);
    napi_throw_error(env, NULL, "mapFile: out of memory");
    return NULL;
  }
  return path;
}

napi_value map_file_js(napi_env env, napi_callback_info info) {
  char *path = path_arg(env, info);
  if (!path) return NULL;
  napi_value buffer = NULL;
  // O_NONBLOCK: a FIFO in a bundle's place must not hang the caller (for a regular file it changes nothing).
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;
  if (fd < 0) {
    fail(env, "cannot open", path, errno);
  } else if (fstat(fd, &st) != 0) {
    fail(env, "cannot stat", path, errno);
  } else if (st.st_size == 0) {
    // mmap refuses a length of 0.
    if (napi_create_buffer(env, 0, NULL, &buffer) != napi_ok) buffer = NULL;
  } else {
    const size_t size = (size_t)st.st_size;
    void *data = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) {
      fail(env, "cannot map", path, errno);
    } else {
      madvise(data, size, MADV_RANDOM);
      // The mapping outlives the descriptor (closed below).
      if (napi_create_external_buffer(env, size, data, unmap_finalizer, (void *)(uintptr_t)size, &buffer) != napi_ok) {
        munmap(data, size);
        buffer = NULL;
        napi_throw_error(env, NULL, "mapFile: cannot hand the mapping to JavaScript");
      }
    }
  }
  if (fd >= 0) close(fd);
  free(path);
  return buffer;
}
