// Node binding of topk.c and int8.c. The scans run as async work on libuv's threads (their slices on the
// scoring threads of pool.c), a background scan on a thread of its own that reports back through a
// thread-safe function (so that no libuv thread waits for it); never on the JavaScript thread. Bad
// arguments throw at once.
//   topK(items: Float32Array, rank, users: Float32Array, k, threads[, excluded: Int32Array, offsets: Int32Array
//     [, background: boolean]]) -> Promise<{ rows: Int32Array, scores: Float32Array }>, users.length / rank lists
//     of k, best first, user b never given its rows excluded[offsets[b] .. offsets[b + 1]); a background scan
//     runs on a thread of its own in the idle scheduling class (pool.c);
//   int8Layout(items: Float32Array, rank, threads[, codes: Int8Array, scales: Float32Array]) -> Promise<{ numItems,
//     tiles, offsets, scales, bounds, rows }>: the int8 scan's copy of a model (int8.c), from a bundle's codes or made here;
//   topKInt8(layout, items: Float32Array, rank, users: Float32Array, k, threads[, excluded: Int32Array, offsets:
//     Int32Array[, background: boolean]]) -> the same as topK, exact, through that copy;
//   isa() -> { float32, int8 }: the instruction set each scan uses; poolThreads() -> scoring threads started;
//   firstNonFinite(values: Float32Array) -> index or -1;
//   codeSums(codes: Int8Array, rank) -> Int32Array of codes.length / rank sums, one per item;
//   fewRatings(items: Float32Array, rank, rows: Int32Array, ratings: Float64Array, lambda, x: Float64Array) -> whether
//     solved: an explicit fold-in with fewer ratings than the rank, x = Yᵀ z with (Y Yᵀ + lambda I) z = ratings (fold.c);
//   normalEquations(items, rank, rows, weights: Float64Array, targets: Float64Array, lambda, a: Float64Array, b: Float64Array):
//     adds each row's weighted outer product to a and its target times the row to b, lambda to a's diagonal (fold.c);
//   choleskySolve(a: Float64Array, b: Float64Array, k, x: Float64Array) -> whether A was positive definite (x solved);
//   nnlsSolve(a, b, k, x) -> whether every sub-system was positive definite (x >= 0 solved);
//   itemsJson(rows: Int32Array, scores: Float32Array, ids: Int32Array) -> string: what JSON.stringify writes for
//     the list's items, [{itemId: String(ids[row]), score}, ...] (items_json.cc);
//   mapFile(path) -> Buffer: the file mapped read-only and shared (map_file.c).
#define _GNU_SOURCE
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __linux__
#include <sched.h>
#include <sys/mman.h>
#endif
#include "items_json.h"
#include "map_file.h"
#include "select.h"
#include "topk.h"

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "recserve native: " #call " failed"); return NULL; } } while (0)

static int typed_array(napi_env env, napi_value value, napi_typedarray_type want, const void **data, size_t *length) {
  bool is_typed;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != want) return 0;
  *data = raw;
  return 1;
}

static int int_arg(napi_env env, napi_value value, int64_t *out) {
  double d;
  if (napi_get_value_double(env, value, &d) != napi_ok || d != (double)(int64_t)d) return 0;
  *out = (int64_t)d;
  return 1;
}

typedef struct {
  napi_value value;
  void *rows, *scores;
} result_t;

// { rows: Int32Array(n), scores: Float32Array(n) }, for the kernel to fill.
static napi_value make_result(napi_env env, size_t n, result_t *out) {
  napi_value rows_buf, scores_buf, rows, scores;
  CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * n, &out->rows, &rows_buf));
  CHECK(napi_create_arraybuffer(env, sizeof(float) * n, &out->scores, &scores_buf));
  CHECK(napi_create_typedarray(env, napi_int32_array, n, rows_buf, 0, &rows));
  CHECK(napi_create_typedarray(env, napi_float32_array, n, scores_buf, 0, &scores));
  CHECK(napi_create_object(env, &out->value));
  CHECK(napi_set_named_property(env, out->value, "rows", rows));
  CHECK(napi_set_named_property(env, out->value, "scores", scores));
  return out->value;
}

// One scan in flight: its arguments, the arrays they point into (referenced, so no GC frees a mapping or
// the result while a thread reads or writes it), and the promise it settles.
typedef struct {
  napi_async_work work;  // NULL for a background scan
  struct reporter *report;  // a background scan's way back to the JavaScript thread
  napi_deferred deferred;
  napi_ref refs[9];
  int nrefs;
  napi_ref result;
  int int8, rank, batch, k, threads, background, status;
  int64_t num_items;
  const float *items, *users, *scales, *bounds;
  const int8_t *tiles;
  const int32_t *offsets, *layout_rows;
  const int32_t *ex_rows, *ex_offsets;  // rows each user excludes, or NULL
  int32_t *out_rows;
  float *out_scores;
} job_t;

static void *scan(void *data) {
  job_t *j = data;
  j->status = j->int8 ? topk_i8(j->tiles, j->offsets, j->scales, j->bounds, j->layout_rows, j->items, j->num_items, j->rank, j->users, j->batch, j->k,
                                j->ex_rows, j->ex_offsets, j->threads, j->out_rows, j->out_scores)
                      : topk_f32(j->items, j->num_items, j->rank, j->users, j->batch, j->k, j->ex_rows, j->ex_offsets, j->threads, j->out_rows, j->out_scores);
  return NULL;
}

#ifdef __linux__
// Whether this libuv thread was put in the batch scheduling class (see execute).
static __thread int batch_class;
#endif

static void execute(napi_env env, void *data) {
  (void)env;
#ifdef __linux__
  // A libuv thread that scans (its share of the slices, see pool.c) is in the batch class, whose threads
  // never preempt another on waking: otherwise the thread that napi_queue_async_work wakes could take the
  // event loop's core at once (the kernel often wakes it there) and hold the event loop for the whole
  // scan. It still gets its share of a busy core, and any idle one.
  if (!batch_class) {
    const struct sched_param none = {0};
    sched_setscheduler(0, SCHED_BATCH, &none);
    batch_class = 1;
  }
#endif
  scan(data);
}

// An environment's way back from background scans: a thread-safe function, which keeps the event loop
// alive while some are in flight (as async work does), and only then.
struct reporter {
  napi_threadsafe_function fn;
  int in_flight;
};

// A background scan, on its own thread: the scan, then the job handed to the JavaScript thread (settle).
static void *scan_and_report(void *data) {
  job_t *j = data;
  scan(j);
  // Fails only while the environment shuts down: the job is dropped with it.
  napi_call_threadsafe_function(j->report->fn, j, napi_tsfn_nonblocking);
  return NULL;
}

// An optional boolean argument: 1 when true, 0 when false or undefined, -1 otherwise.
static int flag_arg(napi_env env, size_t argc, napi_value *argv, size_t i) {
  napi_valuetype type;
  bool value;
  if (i >= argc || (napi_typeof(env, argv[i], &type) == napi_ok && type == napi_undefined)) return 0;
  return napi_get_value_bool(env, argv[i], &value) == napi_ok ? value : -1;
}

// Settles a finished job's promise and lets go of what it held.
static void settle(napi_env env, napi_status status, job_t *j) {
  napi_value value;
  if (status == napi_ok && j->status >= 0 && napi_get_reference_value(env, j->result, &value) == napi_ok) {
    napi_resolve_deferred(env, j->deferred, value);
  } else {
    napi_value message, error;
    const char *why = status == napi_cancelled ? "recserve native: scan cancelled"
                      : j->status == -2        ? "recserve native: the int8 layout's rows are not the model's"
                                               : "recserve native: scan out of memory";
    napi_create_string_utf8(env, why, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, j->deferred, error);
  }
  for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
  napi_delete_reference(env, j->result);
  if (j->work) napi_delete_async_work(env, j->work);
  if (j->report && --j->report->in_flight == 0) napi_unref_threadsafe_function(env, j->report->fn);
  free(j);
}

static void complete(napi_env env, napi_status status, void *data) {
  settle(env, status, data);
}

// The thread-safe function's call on the JavaScript thread (env is NULL while it is torn down).
static void reported(napi_env env, napi_value callback, void *context, void *data) {
  (void)callback, (void)context;
  if (env) settle(env, napi_ok, data);
}

static void free_reporter(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  free(data);
}

// The environment's reporter, made on first use; NULL when it cannot be made (background scans then run as
// async work).
static struct reporter *reporter_of(napi_env env) {
  struct reporter *r = NULL;
  if (napi_get_instance_data(env, (void **)&r) == napi_ok && r) return r;
  napi_value name;
  if (!(r = calloc(1, sizeof *r))) return NULL;
  if (napi_create_string_utf8(env, "recserve-background-scan", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, reported, &r->fn) != napi_ok) {
    free(r);
    return NULL;
  }
  if (napi_unref_threadsafe_function(env, r->fn) != napi_ok || napi_set_instance_data(env, r, free_reporter, NULL) != napi_ok) {
    napi_release_threadsafe_function(r->fn, napi_tsfn_abort);
    free(r);
    return NULL;
  }
  return r;
}

// Queues a background scan on its own thread; 0 when none can take it.
static int queue_in_background(napi_env env, job_t *j) {
  struct reporter *r = reporter_of(env);
  if (!r || (r->in_flight == 0 && napi_ref_threadsafe_function(env, r->fn) != napi_ok)) return 0;
  r->in_flight++;
  j->report = r;
  if (run_in_background(scan_and_report, j)) return 1;
  j->report = NULL;
  if (--r->in_flight == 0) napi_unref_threadsafe_function(env, r->fn);
  return 0;
}

// Queues the scan described by j (whose results go to `result`), keeping `keep` alive until it is done.
static napi_value submit(napi_env env, job_t *j, napi_value *keep, int nkeep, napi_value result) {
  napi_value promise, name;
  j->nrefs = 0;
  if (napi_create_reference(env, result, 1, &j->result) != napi_ok) goto fail;
  for (int i = 0; i < nkeep; i++) {
    if (napi_create_reference(env, keep[i], 1, &j->refs[i]) != napi_ok) goto fail;
    j->nrefs++;
  }
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok) goto fail;
  if (j->background && queue_in_background(env, j)) return promise;
  if (napi_create_string_utf8(env, "recserve-scan", NAPI_AUTO_LENGTH, &name) != napi_ok || napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok)
    goto fail;
  return promise;
fail:
  for (int i = 0; i < j->nrefs; i++) napi_delete_reference(env, j->refs[i]);
  if (j->result) napi_delete_reference(env, j->result);
  free(j);
  napi_throw_error(env, NULL, "recserve native: cannot queue the scan");
  return NULL;
}

// Whether offsets (batch + 1 of them, from 0 to rows_len) split rows into each user's strictly ascending rows
// of [0, num_items), none leaving a user fewer than k rows to rank.
static int valid_exclusions(const int32_t *rows, size_t rows_len, const int32_t *offsets, size_t offsets_len, int batch, int64_t num_items, int k) {
  if (offsets_len != (size_t)batch + 1 || offsets[0] != 0 || (size_t)offsets[batch] != rows_len) return 0;
  for (int b = 0; b < batch; b++) {
    if (offsets[b + 1] < offsets[b] || offsets[b + 1] - offsets[b] > num_items - k) return 0;
    for (int32_t i = offsets[b]; i < offsets[b + 1]; i++)
      if (rows[i] < 0 || rows[i] >= num_items || (i > offsets[b] && rows[i] <= rows[i - 1])) return 0;
  }
  return 1;
}

static napi_value top_k(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *items, *users, *ex_rows = NULL, *ex_offsets = NULL;
  size_t items_len, users_len, ex_rows_len = 0, ex_offsets_len = 0;
  int64_t rank, k, threads;
  napi_valuetype last;
  const int excludes = argc >= 6 && napi_typeof(env, argv[5], &last) == napi_ok && last != napi_undefined;
  const int background = flag_arg(env, argc, argv, 7);
  if (argc < 5 || background < 0 || !typed_array(env, argv[0], napi_float32_array, &items, &items_len) || !int_arg(env, argv[1], &rank) ||
      !typed_array(env, argv[2], napi_float32_array, &users, &users_len) || !int_arg(env, argv[3], &k) || !int_arg(env, argv[4], &threads) ||
      (excludes && (!typed_array(env, argv[5], napi_int32_array, &ex_rows, &ex_rows_len) || !typed_array(env, argv[6], napi_int32_array, &ex_offsets, &ex_offsets_len)))) {
    napi_throw_type_error(env, NULL, "topK(items: Float32Array, rank: integer, users: Float32Array, k: integer, threads: integer[, excluded: Int32Array, offsets: Int32Array[, background: boolean]])");
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
  if (excludes && !valid_exclusions(ex_rows, ex_rows_len, ex_offsets, ex_offsets_len, batch, num_items, kk)) {
    napi_throw_range_error(env, NULL, "topK: offsets must split the excluded rows per user (batch + 1 offsets from 0), each user's rows ascending, of the matrix, leaving k");
    return NULL;
  }
  result_t out;
  job_t *j = calloc(1, sizeof(job_t));
  if (!j) return napi_throw_error(env, NULL, "topK: out of memory"), NULL;
  if (!make_result(env, (size_t)batch * kk, &out)) return free(j), NULL;
  *j = (job_t){.rank = (int)rank, .batch = batch, .k = kk, .threads = (int)threads, .background = background, .num_items = num_items, .items = items, .users = users,
               .ex_rows = excludes ? ex_rows : NULL, .ex_offsets = excludes ? ex_offsets : NULL, .out_rows = out.rows, .out_scores = out.scores};
  return submit(env, j, (napi_value[]){argv[0], argv[2], excludes ? argv[5] : argv[0], excludes ? argv[6] : argv[0]}, 4, out.value);
}

// The five arrays of an int8Layout result, by name, and the number of items it was built for; 0 unless each
// is there with its type.
#define LAYOUT_PARTS 5
static int layout_arg(napi_env env, napi_value layout, napi_value parts[LAYOUT_PARTS], const void *data[LAYOUT_PARTS], size_t lengths[LAYOUT_PARTS], int64_t *num_items) {
  static const char *names[LAYOUT_PARTS] = {"tiles", "offsets", "scales", "bounds", "rows"};
  static const napi_typedarray_type types[LAYOUT_PARTS] = {napi_int8_array, napi_int32_array, napi_float32_array, napi_float32_array, napi_int32_array};
  napi_valuetype type;
  napi_value count;
  if (napi_typeof(env, layout, &type) != napi_ok || type != napi_object || napi_get_named_property(env, layout, "numItems", &count) != napi_ok ||
      !int_arg(env, count, num_items))
    return 0;
  for (int i = 0; i < LAYOUT_PARTS; i++)
    if (napi_get_named_property(env, layout, names[i], &parts[i]) != napi_ok || !typed_array(env, parts[i], types[i], &data[i], &lengths[i])) return 0;
  return 1;
}

static napi_value top_k_int8(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9], parts[LAYOUT_PARTS];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *layout[LAYOUT_PARTS], *items, *users, *ex_rows = NULL, *ex_offsets = NULL;
  size_t layout_len[LAYOUT_PARTS], items_len, users_len, ex_rows_len = 0, ex_offsets_len = 0;
  int64_t rank, k, threads, layout_items;
  napi_valuetype given;
  const int excludes = argc >= 7 && napi_typeof(env, argv[6], &given) == napi_ok && given != napi_undefined;
  const int background = flag_arg(env, argc, argv, 8);
  if (argc < 6 || background < 0 || !layout_arg(env, argv[0], parts, layout, layout_len, &layout_items) || !typed_array(env, argv[1], napi_float32_array, &items, &items_len) ||
      !int_arg(env, argv[2], &rank) || !typed_array(env, argv[3], napi_float32_array, &users, &users_len) || !int_arg(env, argv[4], &k) ||
      !int_arg(env, argv[5], &threads) ||
      (excludes && (!typed_array(env, argv[6], napi_int32_array, &ex_rows, &ex_rows_len) || !typed_array(env, argv[7], napi_int32_array, &ex_offsets, &ex_offsets_len)))) {
    napi_throw_type_error(env, NULL,
                          "topKInt8(layout: { numItems: integer, tiles: Int8Array, offsets: Int32Array, scales: Float32Array, bounds: Float32Array, rows: Int32Array }, "
                          "items: Float32Array, rank: integer, users: Float32Array, k: integer, threads: integer[, excluded: Int32Array, offsets: Int32Array[, background: boolean]])");
    return NULL;
  }
  const size_t tiles_len = layout_len[0], offsets_len = layout_len[1], scales_len = layout_len[2], bounds_len = layout_len[3], rows_len = layout_len[4];
  int64_t num_items = rank > 0 ? (int64_t)(items_len / rank) : 0, tile_bytes = 0;
  const int64_t padded = rank > 0 ? i8_layout_sizes(num_items, (int)rank, &tile_bytes) : 0;
  int ok = rank >= 1 && items_len > 0 && items_len % rank == 0 && num_items <= INT32_MAX && layout_items == num_items && tiles_len == (size_t)tile_bytes && offsets_len == (size_t)padded &&
           scales_len == (size_t)padded && bounds_len == (size_t)(2 * padded + 2) && rows_len == (size_t)padded && users_len > 0 && users_len % rank == 0 && k >= 1 && threads >= 1 && threads <= 256;
  if (!ok) {
    napi_throw_range_error(env, NULL, "topKInt8: the layout must be int8Layout's for these items, users must hold rank values per user, and k and threads must be positive");
    return NULL;
  }
  int kk = (int)(k < num_items ? k : num_items);
  int batch = (int)(users_len / rank);
  if (excludes && !valid_exclusions(ex_rows, ex_rows_len, ex_offsets, ex_offsets_len, batch, num_items, kk)) {
    napi_throw_range_error(env, NULL, "topKInt8: offsets must split the excluded rows per user (batch + 1 offsets from 0), each user's rows ascending, of the matrix, leaving k");
    return NULL;
  }
  result_t out;
  job_t *j = calloc(1, sizeof(job_t));
  if (!j) return napi_throw_error(env, NULL, "topKInt8: out of memory"), NULL;
  if (!make_result(env, (size_t)batch * kk, &out)) return free(j), NULL;
  *j = (job_t){.int8 = 1, .rank = (int)rank, .batch = batch, .k = kk, .threads = (int)threads, .background = background, .num_items = num_items, .items = items, .users = users,
               .tiles = layout[0], .offsets = layout[1], .scales = layout[2], .bounds = layout[3], .layout_rows = layout[4],
               .ex_rows = excludes ? ex_rows : NULL, .ex_offsets = excludes ? ex_offsets : NULL, .out_rows = out.rows, .out_scores = out.scores};
  return submit(env, j, (napi_value[]){parts[0], parts[1], parts[2], parts[3], parts[4], argv[1], argv[3], excludes ? argv[6] : argv[1], excludes ? argv[7] : argv[1]}, 9,
                out.value);
}

#if defined(__linux__) && defined(MADV_HUGEPAGE)
#define HUGE_PAGE ((size_t)2 << 20)

// A zeroed buffer of its own mapping, aligned to 2 MiB and asked for transparent huge pages before anything
// is written to it (Linux grants them where transparent_hugepage is "madvise" or "always"): a scan streams
// the layout's tiles, and with 4 KiB pages each page costs a TLB miss. 8 users on one thread, 100,000 x 64:
// 0.315-0.319 against 0.319-0.327 ms, faster in 9 runs of 10 (C microbenchmark). NULL when it cannot be
// mapped, or handed to V8.
static void *huge_buffer(napi_env env, size_t bytes, napi_value *buffer) {
  const size_t size = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
  char *raw = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return NULL;
  char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
  // The mapping's ends past the aligned part go back (the tail is never empty: start < raw + HUGE_PAGE).
  if (start > raw) munmap(raw, (size_t)(start - raw));
  munmap(start + size, (size_t)(raw + HUGE_PAGE - start));
  madvise(start, size, MADV_HUGEPAGE);
  if (napi_create_external_arraybuffer(env, start, bytes, unmap_finalizer, (void *)(uintptr_t)size, buffer) != napi_ok) {
    munmap(start, size);
    return NULL;
  }
  return start;
}
#endif

// A typed array of `length` elements of `size` bytes, set as obj[name]; its data in *data.
static int new_array(napi_env env, napi_value obj, const char *name, napi_typedarray_type type, size_t size, size_t length, void **data) {
  napi_value buffer, array;
  *data = NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Buffers of a huge page or more (a large model's tiles) get their own; the rest V8's.
  if (size * length >= HUGE_PAGE) *data = huge_buffer(env, size * length, &buffer);
#endif
  if (!*data && napi_create_arraybuffer(env, size * length, data, &buffer) != napi_ok) return 0;
  return napi_create_typedarray(env, type, length, buffer, 0, &array) == napi_ok && napi_set_named_property(env, obj, name, array) == napi_ok;
}

// An int8Layout in flight: the items and the result's arrays are referenced until it is done.
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref items, codes, scales_in, result;
  const float *items_data, *scales_data;
  const int8_t *codes_data;
  int64_t n;
  int rank, threads, status;
  void *tiles, *offsets, *scales, *bounds, *rows;
} layout_job_t;

static void layout_execute(napi_env env, void *data) {
  (void)env;
  layout_job_t *j = data;
  j->status = i8_layout(j->items_data, j->n, j->rank, j->codes_data, j->scales_data, j->threads, j->tiles, j->offsets, j->scales, j->bounds, j->rows);
}

static void layout_complete(napi_env env, napi_status status, void *data) {
  layout_job_t *j = data;
  napi_value value;
  if (status == napi_ok && j->status == 0 && napi_get_reference_value(env, j->result, &value) == napi_ok) napi_resolve_deferred(env, j->deferred, value);
  else {
    napi_value message, error;
    napi_create_string_utf8(env, "recserve native: int8Layout failed", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &error);
    napi_reject_deferred(env, j->deferred, error);
  }
  napi_ref refs[4] = {j->items, j->codes, j->scales_in, j->result};
  for (int i = 0; i < 4; i++)
    if (refs[i]) napi_delete_reference(env, refs[i]);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value int8_layout_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result, promise, name;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *items, *codes = NULL, *scales_in = NULL;
  size_t items_len, codes_len = 0, scales_len = 0;
  int64_t rank, threads;
  napi_valuetype fourth = napi_undefined;
  if (argc >= 4) CHECK(napi_typeof(env, argv[3], &fourth));
  const int bundle = fourth != napi_undefined;
  if (argc < 3 || !typed_array(env, argv[0], napi_float32_array, &items, &items_len) || !int_arg(env, argv[1], &rank) || !int_arg(env, argv[2], &threads) ||
      (bundle && (argc < 5 || !typed_array(env, argv[3], napi_int8_array, &codes, &codes_len) ||
                  !typed_array(env, argv[4], napi_float32_array, &scales_in, &scales_len)))) {
    napi_throw_type_error(env, NULL, "int8Layout(items: Float32Array, rank: integer, threads: integer[, codes: Int8Array, scales: Float32Array])");
    return NULL;
  }
  const int64_t n = rank > 0 ? (int64_t)(items_len / rank) : 0;
  if (rank < 1 || items_len == 0 || items_len % rank != 0 || n > INT32_MAX || threads < 1 || threads > 256 ||
      (bundle && (codes_len != items_len || scales_len != (size_t)n))) {
    napi_throw_range_error(env, NULL, "int8Layout: rank must divide the items' length, codes hold as many values and scales one per item, threads 1-256");
    return NULL;
  }
  int64_t tile_bytes;
  const int64_t padded = i8_layout_sizes(n, (int)rank, &tile_bytes);
  layout_job_t *j = calloc(1, sizeof(layout_job_t));
  if (!j) return napi_throw_error(env, NULL, "int8Layout: out of memory"), NULL;
  *j = (layout_job_t){.items_data = items, .scales_data = scales_in, .codes_data = codes, .n = n, .rank = (int)rank, .threads = (int)threads};
  napi_value count;
  if (napi_create_object(env, &result) != napi_ok || napi_create_int64(env, n, &count) != napi_ok ||
      napi_set_named_property(env, result, "numItems", count) != napi_ok || !new_array(env, result, "tiles", napi_int8_array, 1, (size_t)tile_bytes, &j->tiles) ||
      !new_array(env, result, "offsets", napi_int32_array, 4, (size_t)padded, &j->offsets) ||
      !new_array(env, result, "scales", napi_float32_array, 4, (size_t)padded, &j->scales) ||
      !new_array(env, result, "bounds", napi_float32_array, 4, (size_t)(2 * padded + 2), &j->bounds) ||
      !new_array(env, result, "rows", napi_int32_array, 4, (size_t)padded, &j->rows) ||
      napi_create_reference(env, result, 1, &j->result) != napi_ok || napi_create_reference(env, argv[0], 1, &j->items) != napi_ok ||
      (bundle && (napi_create_reference(env, argv[3], 1, &j->codes) != napi_ok || napi_create_reference(env, argv[4], 1, &j->scales_in) != napi_ok)) ||
      napi_create_promise(env, &j->deferred, &promise) != napi_ok || napi_create_string_utf8(env, "recserve-int8-layout", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, layout_execute, layout_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    napi_ref refs[4] = {j->items, j->codes, j->scales_in, j->result};
    for (int i = 0; i < 4; i++)
      if (refs[i]) napi_delete_reference(env, refs[i]);
    free(j);
    napi_throw_error(env, NULL, "int8Layout: cannot allocate or queue the layout");
    return NULL;
  }
  return promise;
}

static napi_value first_non_finite_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *values;
  size_t length;
  if (argc < 1 || !typed_array(env, argv[0], napi_float32_array, &values, &length)) {
    napi_throw_type_error(env, NULL, "firstNonFinite(values: Float32Array)");
    return NULL;
  }
  CHECK(napi_create_double(env, (double)first_non_finite(values, (int64_t)length), &result));
  return result;
}

// Short lists are written on the stack; longer ones (k in the hundreds) on the heap.
#define ITEMS_JSON_STACK 4096

static napi_value items_json_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *rows, *scores, *ids;
  size_t n, scores_len, ids_len;
  if (argc < 3 || !typed_array(env, argv[0], napi_int32_array, &rows, &n) || !typed_array(env, argv[1], napi_float32_array, &scores, &scores_len) ||
      !typed_array(env, argv[2], napi_int32_array, &ids, &ids_len)) {
    napi_throw_type_error(env, NULL, "itemsJson(rows: Int32Array, scores: Float32Array, ids: Int32Array)");
    return NULL;
  }
  const int32_t *r = rows;
  int ok = scores_len == n;
  for (size_t i = 0; ok && i < n; i++) ok = r[i] >= 0 && (size_t)r[i] < ids_len;
  if (!ok) {
    napi_throw_range_error(env, NULL, "itemsJson: scores must match rows, and each row must index ids");
    return NULL;
  }
  char stack[ITEMS_JSON_STACK];
  const size_t bound = 2 + n * ITEM_JSON_MAX;
  char *out = bound <= sizeof stack ? stack : malloc(bound);
  if (!out) return napi_throw_error(env, NULL, "itemsJson: out of memory"), NULL;
  const size_t length = items_json(r, scores, n, ids, out);
  const napi_status status = napi_create_string_latin1(env, out, length, &result);
  if (out != stack) free(out);
  CHECK(status);
  return result;
}

static napi_value code_sums_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], buffer, result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *codes;
  size_t length;
  int64_t rank;
  if (argc < 2 || !typed_array(env, argv[0], napi_int8_array, &codes, &length) || !int_arg(env, argv[1], &rank)) {
    napi_throw_type_error(env, NULL, "codeSums(codes: Int8Array, rank: integer)");
    return NULL;
  }
  if (rank < 1 || length % rank != 0) {
    napi_throw_range_error(env, NULL, "codeSums: rank must be positive and divide the length");
    return NULL;
  }
  size_t n = length / rank;
  void *sums;
  CHECK(napi_create_arraybuffer(env, sizeof(int32_t) * n, &sums, &buffer));
  code_sums(codes, (int64_t)n, (int)rank, sums);
  CHECK(napi_create_typedarray(env, napi_int32_array, n, buffer, 0, &result));
  return result;
}

static napi_value few_ratings_js(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *items, *rows, *ratings;
  void *x;
  size_t items_len, m, ratings_len, x_len;
  int64_t rank;
  double lambda;
  if (argc < 6 || !typed_array(env, argv[0], napi_float32_array, &items, &items_len) || !int_arg(env, argv[1], &rank) ||
      !typed_array(env, argv[2], napi_int32_array, &rows, &m) || !typed_array(env, argv[3], napi_float64_array, &ratings, &ratings_len) ||
      napi_get_value_double(env, argv[4], &lambda) != napi_ok || !typed_array(env, argv[5], napi_float64_array, (const void **)&x, &x_len)) {
    napi_throw_type_error(env, NULL, "fewRatings(items: Float32Array, rank: integer, rows: Int32Array, ratings: Float64Array, lambda: number, x: Float64Array)");
    return NULL;
  }
  int ok = rank >= 1 && items_len % rank == 0 && m >= 1 && m <= 4096 && ratings_len >= m && x_len >= (size_t)rank;
  for (size_t p = 0; ok && p < m; p++) ok = ((const int32_t *)rows)[p] >= 0 && (size_t)((const int32_t *)rows)[p] < items_len / rank;
  if (!ok) {
    napi_throw_range_error(env, NULL, "fewRatings: rank must divide the items' length, 1..4096 rows each one of them, a rating per row, and x must hold rank");
    return NULL;
  }
  const int solved = few_ratings(items, (int)rank, rows, ratings, (int)m, lambda, x);
  if (solved < 0) return napi_throw_error(env, NULL, "fewRatings: out of memory"), NULL;
  CHECK(napi_get_boolean(env, solved == 1, &result));
  return result;
}

static napi_value normal_equations_js(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *items, *rows, *weights, *targets;
  void *a, *b;
  size_t items_len, m, weights_len, targets_len, a_len, b_len;
  int64_t rank;
  double lambda;
  if (argc < 8 || !typed_array(env, argv[0], napi_float32_array, &items, &items_len) || !int_arg(env, argv[1], &rank) || !typed_array(env, argv[2], napi_int32_array, &rows, &m) ||
      !typed_array(env, argv[3], napi_float64_array, &weights, &weights_len) || !typed_array(env, argv[4], napi_float64_array, &targets, &targets_len) ||
      napi_get_value_double(env, argv[5], &lambda) != napi_ok || !typed_array(env, argv[6], napi_float64_array, (const void **)&a, &a_len) ||
      !typed_array(env, argv[7], napi_float64_array, (const void **)&b, &b_len)) {
    napi_throw_type_error(env, NULL, "normalEquations(items: Float32Array, rank: integer, rows: Int32Array, weights: Float64Array, targets: Float64Array, lambda: number, a: Float64Array, b: Float64Array)");
    return NULL;
  }
  int ok = rank >= 1 && rank <= 4096 && items_len % rank == 0 && weights_len >= m && targets_len >= m && a_len >= (size_t)(rank * rank) && b_len >= (size_t)rank;
  for (size_t p = 0; ok && p < m; p++) ok = ((const int32_t *)rows)[p] >= 0 && (size_t)((const int32_t *)rows)[p] < items_len / rank;
  if (!ok) {
    napi_throw_range_error(env, NULL, "normalEquations: rank (1..4096) must divide the items' length, every row must be one of them, a weight and a target per row, a must hold rank squared and b rank");
    return NULL;
  }
  normal_equations(items, (int)rank, rows, weights, targets, (int)m, lambda, a, b);
  return NULL;
}

// choleskySolve and nnlsSolve: (a: Float64Array, b: Float64Array, k, x: Float64Array) -> whether solved.
static napi_value solve_js(napi_env env, napi_callback_info info, const char *name, int (*solve)(const double *, const double *, int, double *)) {
  size_t argc = 4;
  napi_value argv[4], result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  const void *a, *b;
  void *x;
  size_t a_len, b_len, x_len;
  int64_t k;
  char message[160];
  if (argc < 4 || !typed_array(env, argv[0], napi_float64_array, &a, &a_len) || !typed_array(env, argv[1], napi_float64_array, &b, &b_len) || !int_arg(env, argv[2], &k) ||
      !typed_array(env, argv[3], napi_float64_array, (const void **)&x, &x_len)) {
    snprintf(message, sizeof message, "%s(a: Float64Array, b: Float64Array, k: integer, x: Float64Array)", name);
    napi_throw_type_error(env, NULL, message);
    return NULL;
  }
  if (k < 1 || k > 4096 || a_len < (size_t)(k * k) || b_len < (size_t)k || x_len < (size_t)k) {
    snprintf(message, sizeof message, "%s: k must be 1..4096, a must hold k squared, b and x k", name);
    napi_throw_range_error(env, NULL, message);
    return NULL;
  }
  const int solved = solve(a, b, (int)k, x);
  if (solved < 0) {
    snprintf(message, sizeof message, "%s: out of memory", name);
    return napi_throw_error(env, NULL, message), NULL;
  }
  CHECK(napi_get_boolean(env, solved == 1, &result));
  return result;
}

static napi_value cholesky_solve_js(napi_env env, napi_callback_info info) {
  return solve_js(env, info, "choleskySolve", cholesky_solve);
}

static napi_value nnls_solve_js(napi_env env, napi_callback_info info) {
  return solve_js(env, info, "nnlsSolve", nnls_solve);
}

static napi_value isa_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, f32, i8;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_string_utf8(env, isa_name(topk_f32_isa()), NAPI_AUTO_LENGTH, &f32));
  CHECK(napi_create_string_utf8(env, isa_name(topk_i8_isa()), NAPI_AUTO_LENGTH, &i8));
  CHECK(napi_set_named_property(env, result, "float32", f32));
  CHECK(napi_set_named_property(env, result, "int8", i8));
  return result;
}

static napi_value pool_threads_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, pool_threads(), &result));
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"topK", NULL, top_k, NULL, NULL, NULL, napi_enumerable, NULL},
      {"topKInt8", NULL, top_k_int8, NULL, NULL, NULL, napi_enumerable, NULL},
      {"int8Layout", NULL, int8_layout_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"firstNonFinite", NULL, first_non_finite_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"codeSums", NULL, code_sums_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fewRatings", NULL, few_ratings_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"normalEquations", NULL, normal_equations_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"choleskySolve", NULL, cholesky_solve_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"nnlsSolve", NULL, nnls_solve_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"itemsJson", NULL, items_json_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"isa", NULL, isa_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"poolThreads", NULL, pool_threads_js, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mapFile", NULL, map_file_js, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions) != napi_ok) return NULL;
  return exports;
}
