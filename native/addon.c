// Node binding of topk.c: topK(items: Float32Array, rank, users: Float32Array, k, threads)
// -> { rows: Int32Array, scores: Float32Array }, users.length / rank lists of k, best first.
#include <node_api.h>
#include "topk.h"

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "recserve native: " #call " failed"); return NULL; } } while (0)

static int float_array(napi_env env, napi_value value, const float **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_float32_array) return 0;
  *data = raw;
  return 1;
}

static int int_arg(napi_env env, napi_value value, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

static napi_value top_k(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const float *items, *users;
  size_t items_len, users_len;
  int64_t rank, k, threads;
  if (argc < 5 || !float_array(env, argv[0], &items, &items_len) || !int_arg(env, argv[1], &rank) || !float_array(env, argv[2], &users, &users_len) ||
      !int_arg(env, argv[3], &k) || !int_arg(env, argv[4], &threads)) {
    napi_throw_type_error(env, NULL, "topK(items: Float32Array, rank: integer, users: Float32Array, k: integer, threads: integer)");
    return NULL;
  }
  if (rank < 1 || items_len % rank != 0 || users_len % rank != 0 || users_len == 0 || items_len == 0 || k < 1 || threads < 1 || threads > 256 ||
      items_len / rank > INT32_MAX) {
    napi_throw_range_error(env, NULL, "topK: rank must divide both lengths, and k, threads and the sizes must be positive");
    return NULL;
  }
  int64_t num_items = (int64_t)(items_len / rank);
  int batch = (int)(users_len / rank);
  int kk = (int)(k < num_items ? k : num_items);
  void *rows_data, *scores_data;
  napi_value rows_buf, scores_buf, rows, scores, result;
  CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * (size_t)batch * kk, &rows_data, &rows_buf));
  CHECK(napi_create_arraybuffer(env, sizeof(float) * (size_t)batch * kk, &scores_data, &scores_buf));
  if (topk_f32(items, num_items, (int)rank, users, batch, kk, (int)threads, rows_data, scores_data) < 0) {
    napi_throw_error(env, NULL, "topK: out of memory");
    return NULL;
  }
  CHECK(napi_create_typedarray(env, napi_int32_array, (size_t)batch * kk, rows_buf, 0, &rows));
  CHECK(napi_create_typedarray(env, napi_float32_array, (size_t)batch * kk, scores_buf, 0, &scores));
  CHECK(napi_create_object(env, &result));
  CHECK(napi_set_named_property(env, result, "rows", rows));
  CHECK(napi_set_named_property(env, result, "scores", scores));
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "topK", NAPI_AUTO_LENGTH, top_k, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "topK", fn) != napi_ok) return NULL;
  return exports;
}
