// Exact top-k for a batch of users, with an int8 first pass that proves which items can be among them:
// 1. The model's items are kept a second time as int8 codes with one scale per item (`i8_layout`, once per
//    model), 16 items to a tile: [tile][rank / 4][16 items][4 dimensions]. That is the operand layout of
//    VNNI's vpdpbusd and AVX2's vpmaddubsw, so the scan reads each code once, a quarter of the float32
//    bytes, with no shuffles. The items are laid out by descending norm (`rows` maps a place in the layout
//    back to the model's row), so that the scan meets the items most users rank high first.
// 2. A user's 7-bit codes p (u ≈ t p', p' = p - 64, t = max|u| / 63) give item i the approximate score
//    a = scale (dot + offset) (offset = -64 x the item's code sum, so that a sum can start from it), the
//    exact dot product of the quantised vectors over t. Writing
//    u.y = (t p').(scale q) + u.(y - scale q) + (u - t p').(scale q) and bounding the last two terms by
//    Cauchy-Schwarz: |u.y / t - a| <= bound_i = alpha err_i + beta qnorm_i, with alpha = |u| / t,
//    beta = |u - t p'| / t per user, and err_i >= |y - scale q| (plus every float rounding, generously),
//    qnorm_i >= |scale q| per item.
// 3. With W the largest bound of a user, an item can only be among the k best if a >= (k-th best a) - 2W:
//    the scan keeps those (a floor per user that rises as it goes). From those still above the final floor,
//    theta = the k-th best lower bound a - bound_i; every item whose upper bound a + bound_i reaches theta
//    is a candidate, and the candidates include every item of the exact top k (ties too).
// 4. The candidates' exact scores (float products summed in double, as the JavaScript re-score does) rank
//    them, ties by row: the answer is the exact top k of the model's own dot products. A large batch's
//    users get their answers on every scan thread.
// User codes have 7 bits: a pair of products fits int16 (2 x 127 x 127 = 32,258), so AVX2's vpmaddubsw
// cannot saturate and every instruction set computes the same approximate scores.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "isa.h"
#include "select.h"
#include "topk.h"

#define TILE 16
// Users per pass over the codes (in blocks of 16 and groups of 8 with AVX-512, 4 with AVX2, on each tile while
// it is in L1).
// Each pass reads the whole layout from memory: 64 users a pass scored a batch of 128 a fifth faster than 16.
#define PASS 64
// Users per AMX tile multiply.
#define AMX_USERS 16
// The fewest users a pass scans with AMX, which scores 16 users a multiply whatever their number: with more
// than one group of 8 (VNNI's, which a ninth user makes two), AMX is faster (one thread, 100,000 x 64: 9
// users 0.34-0.37 ms against 0.41, 10 users 0.36-0.37 against 0.44-0.46, 14 users 0.45-0.46 against 0.55-0.57;
// 5 users took a tenth longer with AMX).
#define AMX_FEWEST 9
// Users a vector of scan_lanes holds: a pass of that many or more scans that way where AMX is not used.
#define LANES 16
_Static_assert(PASS % AMX_USERS == 0, "a pass holds whole groups of 16 users");
#define USER_ZERO 64
#ifndef AHEAD
#define AHEAD 4096
#endif

static inline int64_t tiles_for(int64_t n) { return (n + TILE - 1) / TILE; }
static inline int groups_for(int rank) { return (rank + 3) / 4; }

// ---- layout ----

// Generous room for float rounding, relative to |y| + |scale q|: the re-score's (rank products summed in
// double, then rounded to float), the approximate score's (two roundings) and the bound's own.
static double rounding_room(int rank) { return (rank + 16) * ldexp(1.0, -22); }

int64_t i8_layout_sizes(int64_t n, int rank, int64_t *tile_bytes) {
  *tile_bytes = tiles_for(n) * groups_for(rank) * 4 * TILE;
  return tiles_for(n) * TILE;
}

typedef struct {
  const float *items, *scales_in;
  const int8_t *codes;
  const int32_t *rows;    // the model's row at each place
  int64_t n, first, end;  // places [first, end), whole tiles but the last
  int rank;
  int8_t *tiles;
  int32_t *offsets;
  float *scales, *bounds;
  float max_err, max_q;
  char pad[64];
} layout_slice_t;

// Codes of one row: the bundle's, or y / s rounded half away from zero into [-127, 127] (a loop the
// compiler vectorises).
static void row_codes(const layout_slice_t *a, int64_t i, float s, int8_t *q) {
  const float *y = a->items + i * a->rank;
  if (a->codes) {
    for (int j = 0; j < a->rank; j++) q[j] = a->codes[(int64_t)j * a->n + i];
    return;
  }
  const float inverse = s > 0 ? 1 / s : 0;
  for (int j = 0; j < a->rank; j++) {
    const float v = y[j] * inverse;
    const int r = (int)(v + (v < 0 ? -0.5f : 0.5f));
    q[j] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
  }
}

static void *layout_rows(void *arg) {
  layout_slice_t *a = arg;
  const int rank = a->rank, groups = groups_for(rank);
  const double room = rounding_room(rank), up = 1 + ldexp(1.0, -20);
  int8_t q[rank];
  // Rows come in the layout's order, not the matrix's: each is asked for a few places ahead.
  const int64_t ahead = 8, row_bytes = (int64_t)rank * sizeof(float);
  for (int64_t place = a->first; place < a->end; place++) {
    const int64_t i = a->rows[place];
    if (place + ahead < a->end)
      for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch((const char *)(a->items + (int64_t)a->rows[place + ahead] * rank) + b);
    const float *y = a->items + i * rank;
    float s = 0;
    // A bundle's scale only has to be finite: the bounds come from what the codes and scale actually give.
    if (a->scales_in) s = isfinite(a->scales_in[i]) ? a->scales_in[i] : 0;
    else {
      for (int j = 0; j < rank; j++) s = fabsf(y[j]) > s ? fabsf(y[j]) : s;
      s /= 127;
    }
    row_codes(a, i, s, q);
    int8_t *tile = a->tiles + (place / TILE) * groups * 4 * TILE + (place % TILE) * 4;
    int32_t sum = 0;
    for (int j = 0; j < rank; j++) {
      tile[(j / 4) * 4 * TILE + j % 4] = q[j];
      sum += q[j];
    }
    double err = 0, norm = 0, qnorm = 0;
    for (int j = 0; j < rank; j++) {
      const double approx = (double)s * q[j], diff = (double)y[j] - approx;
      err += diff * diff, norm += (double)y[j] * y[j], qnorm += approx * approx;
    }
    a->offsets[place] = -USER_ZERO * sum;
    a->scales[place] = s;
    const double qn = sqrt(qnorm);
    float *bound = a->bounds + 2 * place;
    bound[0] = (float)((sqrt(err) + room * (sqrt(norm) + qn)) * up);
    bound[1] = (float)(qn * up);
    a->max_err = bound[0] > a->max_err ? bound[0] : a->max_err;
    a->max_q = bound[1] > a->max_q ? bound[1] : a->max_q;
  }
  return NULL;
}

// Bands of norm, and within one of scale, that the layout's order counts in: the order only has to be
// roughly by norm, and sorting by bands takes one pass over the items whatever their number.
#define NORM_BANDS 128
#define SCALE_BANDS 512
_Static_assert(NORM_BANDS * SCALE_BANDS <= 65536, "a band fits 16 bits");

// The model's rows by descending norm, in NORM_BANDS bands of the largest norm, then by descending scale in
// SCALE_BANDS bands of the largest, and by row within those: rows[place] for each place of the layout, -1
// past the items. The items most users rank high tend to be the long ones, so the floors rise early: a batch
// of 32 users kept 212 items each instead of 322, and took 0.83 instead of 0.97 ms on one thread (100,000 x
// 64, trained factors). A tile's items then have nearly the same scale, which scan_lanes's bound needs. Any
// order gives the same answers.
typedef struct {
  const float *items, *scales_in;
  int64_t first, end;
  int rank;
  float *norms, *scales;
  float longest, largest;
  char pad[64];
} norms_slice_t;

// Squared norms of rows [first, end), in float (the order only needs their bands) and eight partial sums,
// which the compiler vectorises; and their scales (a bundle's, or in proportion to the largest |y|).
static void *row_norms(void *arg) {
  norms_slice_t *a = arg;
  for (int64_t i = a->first; i < a->end; i++) {
    const float *y = a->items + i * a->rank;
    float part[8] = {0}, top[8] = {0};
    for (int j = 0; j + 8 <= a->rank; j += 8)
      for (int w = 0; w < 8; w++) part[w] += y[j + w] * y[j + w], top[w] = fabsf(y[j + w]) > top[w] ? fabsf(y[j + w]) : top[w];
    float sum = 0, scale = 0;
    for (int j = a->rank & ~7; j < a->rank; j++) sum += y[j] * y[j], scale = fabsf(y[j]) > scale ? fabsf(y[j]) : scale;
    for (int w = 0; w < 8; w++) sum += part[w], scale = top[w] > scale ? top[w] : scale;
    if (a->scales_in) scale = isfinite(a->scales_in[i]) ? a->scales_in[i] : 0;
    a->norms[i] = sum;
    a->scales[i] = scale;
    a->longest = sum > a->longest ? sum : a->longest;
    a->largest = scale > a->largest ? scale : a->largest;
  }
  return NULL;
}

// Band 0 of `count` for share 1 (the largest), the last for 0; NaN and shares out of [0, 1] go to the last.
static inline int band_of(float share, int count) { return share >= 0 && share <= 1 ? count - 1 - (int)(share * (count - 1)) : count - 1; }

static int norm_order(const float *items, const float *scales_in, int64_t n, int rank, int threads, int32_t *rows, int64_t padded) {
  int parts = slices_for(threads < 1 ? 1 : threads);
  if (parts > n) parts = n > 0 ? (int)n : 1;
  float *norms = malloc(sizeof(float) * (n ? n : 1)), *scales = malloc(sizeof(float) * (n ? n : 1));
  uint16_t *bands = malloc(sizeof(uint16_t) * (n ? n : 1));
  int64_t *starts = calloc(NORM_BANDS * SCALE_BANDS + 1, sizeof(int64_t));
  norms_slice_t *slices = calloc((size_t)parts, sizeof(norms_slice_t));
  if (!norms || !scales || !bands || !starts || !slices) { free(norms); free(scales); free(bands); free(starts); free(slices); return -1; }
  for (int t = 0; t < parts; t++) slices[t] = (norms_slice_t){items, scales_in, n * t / parts, n * (t + 1) / parts, rank, norms, scales, 0, 0, {0}};
  run_parallel(row_norms, slices, sizeof(norms_slice_t), parts, threads);
  float longest = 0, largest = 0;
  for (int t = 0; t < parts; t++) {
    longest = slices[t].longest > longest ? slices[t].longest : longest;
    largest = slices[t].largest > largest ? slices[t].largest : largest;
  }
  longest = sqrtf(longest);
  for (int64_t i = 0; i < n; i++) {
    const int norm_band = band_of(longest > 0 ? sqrtf(norms[i]) / longest : 0, NORM_BANDS);
    bands[i] = (uint16_t)(norm_band * SCALE_BANDS + band_of(largest > 0 ? scales[i] / largest : 0, SCALE_BANDS));
    starts[bands[i] + 1]++;
  }
  for (int b = 0; b < NORM_BANDS * SCALE_BANDS; b++) starts[b + 1] += starts[b];
  for (int64_t i = 0; i < n; i++) rows[starts[bands[i]]++] = (int32_t)i;
  for (int64_t place = n; place < padded; place++) rows[place] = -1;
  free(norms);
  free(scales);
  free(bands);
  free(starts);
  free(slices);
  return 0;
}

int i8_layout(const float *items, int64_t n, int rank, const int8_t *codes, const float *scales_in, int threads, int8_t *tiles, int32_t *offsets, float *scales,
              float *bounds, int32_t *rows) {
  const int64_t tiles_n = tiles_for(n), padded = tiles_n * TILE;
  if (norm_order(items, scales_in, n, rank, threads, rows, padded) < 0) return -1;
  memset(tiles, 0, (size_t)(tiles_n * groups_for(rank) * 4 * TILE));
  memset(offsets, 0, sizeof(int32_t) * padded);
  memset(scales, 0, sizeof(float) * padded);
  memset(bounds, 0, sizeof(float) * (2 * padded + 2));
  int parts = slices_for(threads < 1 ? 1 : threads);
  if (parts > tiles_n) parts = (int)tiles_n;
  layout_slice_t *slices = calloc((size_t)parts, sizeof(layout_slice_t));
  if (!slices) return -1;
  for (int t = 0; t < parts; t++) {
    const int64_t first = tiles_n * t / parts * TILE, end = tiles_n * (t + 1) / parts * TILE;
    slices[t] = (layout_slice_t){items, scales_in, codes, rows, n, first, end < n ? end : n, rank, tiles, offsets, scales, bounds, 0, 0, {0}};
  }
  run_parallel(layout_rows, slices, sizeof(layout_slice_t), parts, threads);
  for (int t = 0; t < parts; t++) {
    bounds[2 * padded] = slices[t].max_err > bounds[2 * padded] ? slices[t].max_err : bounds[2 * padded];
    bounds[2 * padded + 1] = slices[t].max_q > bounds[2 * padded + 1] ? slices[t].max_q : bounds[2 * padded + 1];
  }
  free(slices);
  return 0;
}

// ---- the items each user keeps while scanning ----

// One user's kept items in one thread's part of a call: every item it scanned whose a reached the user's
// floor then, and the k best a among them.
typedef struct {
  entry_t *e;
  int64_t count, cap;  // it never grows past the model's items
  float *best;         // a min-heap of the k best a kept
  float floor;         // the floor this thread holds the user to (see share_floors)
  int best_count, failed;
  int own;             // e is memory of its own, not the call's block (topk_i8)
} list_t;

// The k-th largest of s[0..n), 1 <= k <= n; reorders s. Branch-free Lomuto partitions around the middle
// element (the values arrive in row order, which is random with respect to score).
static float kth_largest(float *s, int64_t n, int64_t k) {
  int64_t lo = 0, hi = n - 1, want = k - 1;
  while (lo < hi) {
    float pivot = s[lo + (hi - lo) / 2];
    s[lo + (hi - lo) / 2] = s[hi];
    s[hi] = pivot;
    int64_t store = lo;
    for (int64_t i = lo; i < hi; i++) {
      float v = s[i];
      s[i] = s[store];
      s[store] = v;
      store += v > pivot;
    }
    s[hi] = s[store];
    s[store] = pivot;
    // s[lo..store) > pivot, s[store] = pivot, s(store..hi] <= pivot
    if (want == store) return pivot;
    if (want < store) hi = store - 1;
    else lo = store + 1;
  }
  return s[lo];
}

typedef struct {
  const int8_t *tiles;
  const int32_t *offsets;
  const float *scales;
  const int32_t *rows;     // the model's row at each place of the layout
  int64_t n;
  int rank, groups, users, k;
  const uint8_t *codes;    // users x (4 groups), zero-padded to PASS users
  const uint8_t *lanes;    // the same codes for scan_lanes, [PASS / LANES][groups][LANES users][4], or NULL
  const float *widths;     // per user: 2W, rounded up
  float *floors;           // per user, shared by the threads: the highest floor any of them reached
  int first_user;          // its first user's place in the round (see topk_i8)
  // Rows each user must not get, ascending: user u's are ex_rows[ex_offsets[u] .. ex_offsets[u + 1]); NULL
  // offsets when no user excludes any.
  const int32_t *ex_rows, *ex_offsets;
} pass_t;

// Any thread's floor holds for all: its k-th best a is at most the k-th best of all items. Raised by whichever
// thread gets there first, so that a thread never keeps what another already ruled out.
static inline float floor_of(const pass_t *p, int u) {
  float f;
  __atomic_load(&p->floors[u], &f, __ATOMIC_RELAXED);
  return f;
}

static void raise_floor(const pass_t *p, int u, float f) {
  float now = floor_of(p, u);
  while (f > now && !__atomic_compare_exchange(&p->floors[u], &now, &f, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
}

// The next float toward +infinity (up) or -infinity: nextafterf without a call into libm. Infinities and
// NaN stay as they are.
static inline float step(float f, int up) {
  if (f != f || f == (up ? INFINITY : -INFINITY)) return f;
  if (f == 0) return up ? 0x1p-149f : -0x1p-149f;
  uint32_t bits;
  memcpy(&bits, &f, sizeof bits);
  bits += (f > 0) == (up != 0) ? 1 : (uint32_t)-1;
  memcpy(&f, &bits, sizeof f);
  return f;
}

// Counts a kept a among the list's k best: once it has k, user u's floor is the k-th best less the
// user's width, raised as soon as that rises (so the scan keeps fewer items than if it waited).
static inline __attribute__((always_inline)) void rank_best(const pass_t *p, int u, list_t *l, float a) {
  float *h = l->best;
  int i;
  if (l->best_count < p->k) {
    for (i = l->best_count++; i > 0 && h[(i - 1) / 2] > a; i = (i - 1) / 2) h[i] = h[(i - 1) / 2];
    h[i] = a;
    if (l->best_count < p->k) return;
  } else {
    if (a <= h[0]) return;
    const int n = l->best_count;
    for (i = 0;;) {
      int child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && h[child + 1] < h[child]) child++;
      if (h[child] >= a) break;
      h[i] = h[child];
      i = child;
    }
    h[i] = a;
  }
  const float floor = step((float)((double)h[0] - p->widths[u]), 0);
  l->floor = floor > l->floor ? floor : l->floor;
}

// Each thread holds its users to floors of its own, raised as its k best rise, and shares them a chunk at
// a time: the floor of every thread holds for all (its k-th best a is at most the k-th best of all items),
// and a floor shared at every rise moved a cache line between the threads at every rise (a batch of 32
// took 0.85-0.89 ms on two threads instead of 0.80).
static void share_floors(const pass_t *p, list_t *lists) {
  for (int u = 0; u < p->users; u++) {
    raise_floor(p, u, lists[u].floor);
    const float shared = floor_of(p, u);
    lists[u].floor = shared > lists[u].floor ? shared : lists[u].floor;
  }
}

// A full list drops what fell below its floor; it doubles when that freed less than half.
static void compact(const pass_t *p, list_t *l) {
  const float floor = l->floor;
  int64_t kept = 0;
  for (int64_t i = 0; i < l->count; i++)
    if (l->e[i].s >= floor) l->e[kept++] = l->e[i];
  l->count = kept;
  if (l->count > l->cap / 2 && l->cap < p->n) {
    const int64_t cap = 2 * l->cap < p->n ? 2 * l->cap : p->n;
    entry_t *e = l->own ? realloc(l->e, sizeof(entry_t) * cap) : malloc(sizeof(entry_t) * cap);
    if (!e) { l->failed = 1; return; }
    if (!l->own) memcpy(e, l->e, sizeof(entry_t) * l->count);
    l->e = e, l->cap = cap, l->own = 1;
  }
}

// Whether user u excludes the item at `place` of the layout, done only for the few items that reach a floor.
// Left out there, an excluded item never holds a place among the k best, so the scan is asked for k, not k
// plus the exclusions (8 users, k 10, 20 exclusions each: 0.26 ms against 0.39-0.41 for k 30; 0.24 with no
// exclusions). A binary search without branches, since the rows land anywhere: a branch a step took 0.27 ms.
static int excluded(const pass_t *p, int u, int64_t place) {
  const int32_t row = p->rows[place];
  const int32_t *base = p->ex_rows + p->ex_offsets[u];
  int64_t n = p->ex_offsets[u + 1] - p->ex_offsets[u];
  if (n == 0) return 0;
  // base[0] becomes the last row <= row (or the first row, when every row is past it).
  while (n > 1) {
    const int64_t half = n / 2;
    base = base[half] <= row ? base + half : base;
    n -= half;
  }
  return *base == row;
}

// Keeps the item at `place` (approximate score a) for user u if it reaches the user's floor now. Inlined
// whole, with rank_best: called out of line from scan_lanes, a scan of 256 users took 19 ms instead of 11.
static inline __attribute__((always_inline)) void keep_hit(const pass_t *p, int u, list_t *l, float a, int64_t place) {
  if (place >= p->n || a < l->floor) return;
  if (p->ex_offsets && excluded(p, u, place)) return;
  if (l->count == l->cap) compact(p, l);
  if (l->failed || l->count == l->cap) return;
  l->e[l->count++] = (entry_t){a, (int32_t)place};
  rank_best(p, u, l, a);
}

// Keeps the items of one tile (scores a[0..16) of rows from `first`) flagged in `mask` for user u.
static inline void keep_hits(const pass_t *p, int u, list_t *l, uint32_t mask, const float *a, int64_t first) {
  for (; mask; mask &= mask - 1) {
    const int q = __builtin_ctz(mask);
    keep_hit(p, u, l, a[q], first + q);
  }
}

// ---- scans: approximate scores of tiles [first, end) for the pass's users, kept above their floors ----

typedef void (*scan_fn)(const pass_t *p, int64_t first, int64_t end, list_t *lists);

static void scan_portable(const pass_t *p, int64_t first, int64_t end, list_t *lists) {
  const int64_t tile_bytes = (int64_t)p->groups * 4 * TILE;
  for (int64_t t = first; t < end; t++) {
    const int8_t *x = p->tiles + t * tile_bytes;
    for (int u = 0; u < p->users; u++) {
      const uint8_t *w = p->codes + (int64_t)u * p->groups * 4;
      int32_t acc[TILE] = {0};
      for (int g = 0; g < p->groups; g++)
        for (int i = 0; i < TILE; i++) {
          const int8_t *c = x + g * 4 * TILE + 4 * i;
          acc[i] += w[4 * g] * c[0] + w[4 * g + 1] * c[1] + w[4 * g + 2] * c[2] + w[4 * g + 3] * c[3];
        }
      float a[TILE];
      uint32_t mask = 0;
      for (int i = 0; i < TILE; i++) {
        a[i] = (float)(acc[i] + p->offsets[t * TILE + i]) * p->scales[t * TILE + i];
        mask |= (uint32_t)(a[i] >= lists[u].floor) << i;
      }
      if (mask) keep_hits(p, u, &lists[u], mask, a, t * TILE);
    }
  }
}

#if RECSERVE_X86
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define AVX2 __attribute__((target("avx2")))
#define INLINE static inline __attribute__((always_inline))

// Users per group of accumulators: 2 tiles x 8 users = 16 of the 32 registers; each step then loads 2
// code vectors and 8 user words for 16 vpdpbusd, within the load ports' 2 a cycle (one tile x 16 users
// would take 17 loads for 16, and measured no faster per user than 8).
#define GROUP 8

// Keeps user u's items of one tile (approximate scores a, rows from `first`) at or above `floor`: the
// rare tile with one goes to keep_hits. For AVX-512 and AMX alike (AVX-512F, which both targets include).
__attribute__((target("avx512f"))) INLINE void keep_at_floor(const pass_t *p, int u, list_t *l, __m512 a, __m512 floor, int64_t first) {
  const uint32_t mask = _mm512_cmp_ps_mask(a, floor, _CMP_GE_OQ);
  if (__builtin_expect(mask != 0, 0)) {
    float s[TILE];
    _mm512_storeu_ps(s, a);
    keep_hits(p, u, l, mask, s, first);
  }
}

// The int32 dot products plus the items' offsets, of `tiles` (1 or 2) consecutive tiles at x with `users`
// (<= GROUP) users' words at w, each code vector loaded once for every user (and the codes AHEAD bytes on
// asked for), into out[h * GROUP + u]. Constants after inlining: the accumulators stay in registers.
VNNI INLINE void dots_vnni(const int8_t *x, const int32_t *offsets, const uint32_t *w, int groups, const int tiles, const int users, __m512i *out) {
  const int64_t tile_bytes = (int64_t)groups * 4 * TILE;
  __m512i acc[2][GROUP];
  // Starting from the offsets saves an addition per user.
  for (int h = 0; h < tiles; h++) {
    const __m512i start = _mm512_loadu_si512(offsets + h * TILE);
    for (int u = 0; u < users; u++) acc[h][u] = start;
  }
  for (int g = 0; g < groups; g++) {
    __m512i c[2];
    for (int h = 0; h < tiles; h++) {
      __builtin_prefetch(x + h * tile_bytes + g * 4 * TILE + AHEAD, 0, 3);
      c[h] = _mm512_loadu_si512(x + h * tile_bytes + g * 4 * TILE);
    }
    for (int u = 0; u < users; u++) {
      const __m512i word = _mm512_set1_epi32((int32_t)w[u * groups + g]);
      for (int h = 0; h < tiles; h++) acc[h][u] = _mm512_dpbusd_epi32(acc[h][u], word, c[h]);
    }
  }
  for (int h = 0; h < tiles; h++)
    for (int u = 0; u < users; u++) out[h * GROUP + u] = acc[h][u];
}

// `tiles` (1 or 2) consecutive tiles from t for `users` (<= GROUP) users from u0: the items at or above a
// user's floor are kept.
VNNI INLINE void tiles_vnni(const pass_t *p, int64_t t, int u0, list_t *lists, const int tiles, const int users) {
  const int64_t tile_bytes = (int64_t)p->groups * 4 * TILE;
  const int8_t *x = p->tiles + t * tile_bytes;
  __m512i acc[2][GROUP];
  dots_vnni(x, p->offsets + t * TILE, (const uint32_t *)p->codes + (int64_t)u0 * p->groups, p->groups, tiles, users, acc[0]);
  __m512 floors[GROUP];
  for (int u = 0; u < users; u++) floors[u] = _mm512_set1_ps(lists[u0 + u].floor);
  for (int h = 0; h < tiles; h++) {
    const int64_t first = (t + h) * TILE;
    const __m512 scales = _mm512_loadu_ps(p->scales + first);
    for (int u = 0; u < users; u++) {
      keep_at_floor(p, u0 + u, &lists[u0 + u], _mm512_mul_ps(_mm512_cvtepi32_ps(acc[h][u]), scales), floors[u], first);
    }
  }
}

// Every group of up to 8 users from `from` on the same tiles while they are in L1.
VNNI INLINE void group_vnni(const pass_t *p, int64_t t, int from, list_t *lists, const int tiles) {
  for (int u0 = from; u0 < p->users; u0 += GROUP) {
#define CASE(n) \
  case n: tiles_vnni(p, t, u0, lists, tiles, n); break;
    switch (p->users - u0) {
      CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7)
      default: tiles_vnni(p, t, u0, lists, tiles, GROUP); break;
    }
#undef CASE
  }
}

// The pass's users from `from` over tiles [first, end).
VNNI INLINE void users_vnni(const pass_t *p, int64_t first, int64_t end, int from, list_t *lists) {
  int64_t t = first;
  for (; t + 2 <= end; t += 2) group_vnni(p, t, from, lists, 2);
  if (t < end) group_vnni(p, t, from, lists, 1);
}

VNNI static void scan_vnni(const pass_t *p, int64_t first, int64_t end, list_t *lists) { users_vnni(p, first, end, 0, lists); }

// VNNI with the users across the lanes, for passes of LANES users or more where AMX is not used: a vector
// holds one group's codes of 16 users, and each item's 4 codes come broadcast from the tile as vpdpbusd's
// memory operand. A step is one load and 16 vpdpbusd, where scan_vnni's takes a broadcast of its own for
// every 2. The sums are the same integers, so every user keeps the same items in the same order.

// acc += words . (the 4 codes at `from`, broadcast): written out, because GCC 12 neither folds the
// broadcast into the intrinsic nor keeps the accumulators in place.
#define DPBUSD_BROADCAST(acc, words, from) __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(words), "m"(*(const int32_t *)(from)))

// The smallest and largest scale of a tile's items, broadcast; `usable` when none is negative (a bundle's
// scale need only be finite).
typedef struct {
  __m512 smin, smax;
  int usable;
} tile_scales_t;

VNNI INLINE tile_scales_t scales_of(const float *scales) {
  const __m512 s = _mm512_loadu_ps(scales);
  const float smin = _mm512_reduce_min_ps(s);
  return (tile_scales_t){_mm512_set1_ps(smin), _mm512_set1_ps(_mm512_reduce_max_ps(s)), smin >= 0};
}

// Tile t for the LANES users from u0 (codes w): keeps the items that reach a user's floor.
VNNI INLINE void tile_lanes(const pass_t *p, int64_t t, int u0, const uint8_t *w, float *lane_floors, tile_scales_t range, list_t *lists) {
  const int64_t first = t * TILE;
  const __m512 floors = _mm512_loadu_ps(lane_floors + u0);
  const int8_t *x = p->tiles + t * (int64_t)p->groups * 4 * TILE;
  // Each sum starts from its item's offset, broadcast by a load (vpbroadcastd from memory, the load unit's
  // alone): a subtraction after the sums took the vector ports that vpdpbusd needs (3% of the scan).
  __m512i dot[TILE];
  for (int i = 0; i < TILE; i++) dot[i] = _mm512_set1_epi32(p->offsets[first + i]);
  for (int g = 0; g < p->groups; g++) {
    const __m512i words = _mm512_loadu_si512(w + g * 4 * LANES);
    const int32_t *codes = (const int32_t *)(x + g * 4 * TILE);
    for (int i = 0; i < TILE; i++) DPBUSD_BROADCAST(dot[i], words, codes + i);
  }
  // First a bound of each user's scores in the tile, from the largest sum D: D smax when D >= 0, D smin
  // when below, since every item's scale lies in [smin, smax] and rounding is monotonic. A tile's items have
  // nearly the same scale (norm_order), so the bound is close, and it costs a vector max an item where a
  // score costs a conversion and a product.
  if (range.usable) {
    __m512i top[TILE / 2];
    for (int i = 0; i < TILE / 2; i++) top[i] = _mm512_max_epi32(dot[i], dot[i + TILE / 2]);
    for (int half = TILE / 4; half > 0; half /= 2)
      for (int i = 0; i < half; i++) top[i] = _mm512_max_epi32(top[i], top[i + half]);
    const __m512 d = _mm512_cvtepi32_ps(top[0]);
    const __m512 bound = _mm512_max_ps(_mm512_mul_ps(d, range.smax), _mm512_mul_ps(d, range.smin));
    if (__builtin_expect(_mm512_cmp_ps_mask(bound, floors, _CMP_GE_OQ) == 0, 1)) return;
  }
  // hits[h]: the masks of items 4h .. 4h + 3, 16 bits each. The scores are all compared before any item is
  // kept, so that they never live across a call.
  __m512 a[TILE];
  uint64_t hits[TILE / 4] = {0};
  for (int i = 0; i < TILE; i++) {
    a[i] = _mm512_mul_ps(_mm512_cvtepi32_ps(dot[i]), _mm512_set1_ps(p->scales[first + i]));
    hits[i / 4] |= (uint64_t)_mm512_cmp_ps_mask(a[i], floors, _CMP_GE_OQ) << (LANES * (i % 4));
  }
  if ((hits[0] | hits[1] | hits[2] | hits[3]) == 0) return;
  float s[TILE][LANES];
  for (int i = 0; i < TILE; i++) _mm512_storeu_ps(s[i], a[i]);
  // Items in order, and each item's users in order: every user meets its items in the layout's order.
  for (int h = 0; h < TILE / 4; h++)
    for (uint64_t mask = hits[h]; mask; mask &= mask - 1) {
      const int bit = __builtin_ctzll(mask), i = 4 * h + bit / LANES, u = bit % LANES;
      keep_hit(p, u0 + u, &lists[u0 + u], s[i][u], first + i);
      lane_floors[u0 + u] = lists[u0 + u].floor;
    }
}

// Whole blocks of LANES users by tile_lanes, the rest (fewer) as scan_vnni scans them: a block padded with
// users costs as much as a full one (24 users in two blocks took 1.04-1.05 ms against 0.90-0.91 in three
// groups of 8).
VNNI static void scan_lanes(const pass_t *p, int64_t first, int64_t end, list_t *lists) {
  const int64_t tile_bytes = (int64_t)p->groups * 4 * TILE;
  const int blocked = p->users / LANES * LANES;
  // The blocked users' floors side by side, kept as they rise.
  float floors[PASS];
  for (int u = 0; u < blocked; u++) floors[u] = lists[u].floor;
  for (int64_t t = first; t < end; t++) {
    const int8_t *ahead = p->tiles + t * tile_bytes + AHEAD;
    for (int64_t c = 0; c < tile_bytes; c += 64) __builtin_prefetch(ahead + c, 0, 3);
    const tile_scales_t range = scales_of(p->scales + t * TILE);
    for (int u0 = 0; u0 < blocked; u0 += LANES) tile_lanes(p, t, u0, p->lanes + (int64_t)(u0 / LANES) * p->groups * 4 * LANES, floors, range, lists);
  }
  if (blocked < p->users) users_vnni(p, first, end, blocked, lists);
}

#if RECSERVE_AMX
// AMX: one tile multiply (tdpbusd) scores 16 users x 16 items over 64 dimensions, sixteen vpdpbusd's
// work. The layout's tile is tdpbusd's second operand as it is ([rank / 4][16 items][4 codes]); the first
// is 16 users' codes, rows of rank bytes. Registers: tmm0 and tmm1 the sums of two item tiles, tmm2 the
// users' codes for 64 dimensions, tmm4 and tmm5 the items', and tmm3, tmm6 and tmm7 the same for the
// last dimensions when rank is no multiple of 64.
#define AMX __attribute__((target("amx-tile,amx-int8,avx512f,avx512bw")))

typedef struct __attribute__((packed)) {
  uint8_t palette, start_row, reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
} tile_config_t;

// The tile shapes for `groups` groups of 4 dimensions (per thread: each scanning thread sets its own).
AMX static void amx_configure(int groups) {
  tile_config_t c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  const int last = groups % 16;
  for (int r = 0; r < 6; r++) c.rows[r] = 16, c.bytes_per_row[r] = 64;
  c.bytes_per_row[3] = (uint16_t)(4 * last), c.rows[3] = last ? 16 : 0;
  c.rows[6] = c.rows[7] = (uint8_t)last, c.bytes_per_row[6] = c.bytes_per_row[7] = last ? 64 : 0;
  if (!last) c.bytes_per_row[3] = 0;
  _tile_loadconfig(&c);
}

// The items of tile t (and t + 1 with `pair`) at or above the floors of 16 users from u0, from their int32
// sums[tile][user][item] (the tile multiplies' results, stored).
AMX INLINE void keep_tiles(const pass_t *p, int32_t sums[2][AMX_USERS][TILE], int64_t t, int pair, int u0, list_t *lists) {
  const int users = p->users - u0 < AMX_USERS ? p->users - u0 : AMX_USERS;
  for (int h = 0; h <= pair; h++) {
    const int64_t row = (t + h) * TILE;
    const __m512i offsets = _mm512_loadu_si512(p->offsets + row);
    const __m512 scales = _mm512_loadu_ps(p->scales + row);
    for (int u = 0; u < users; u++) {
      const __m512 a = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(sums[h][u]), offsets)), scales);
      keep_at_floor(p, u0 + u, &lists[u0 + u], a, _mm512_set1_ps(lists[u0 + u].floor), row);
    }
  }
}

AMX static void scan_amx(const pass_t *p, int64_t first, int64_t end, list_t *lists) {
  const int groups = p->groups, full = groups / 16, last = groups % 16;
  const int64_t tile_bytes = (int64_t)groups * 4 * TILE, stride = (int64_t)groups * 4;
  int32_t sums[2][AMX_USERS][TILE] __attribute__((aligned(64)));
  amx_configure(groups);
  for (int64_t t = first; t < end; t += 2) {
    const int8_t *x = p->tiles + t * tile_bytes;
    const int pair = end - t >= 2;
    for (int64_t b = 0; b < (pair ? 2 : 1) * tile_bytes; b += 64) __builtin_prefetch(x + b + AHEAD, 0, 3);
    for (int u0 = 0; u0 < p->users; u0 += AMX_USERS) {
      // The pass's codes have rows for PASS users (zero past p->users), so 16 rows from u0 are there.
      const uint8_t *w = p->codes + (int64_t)u0 * stride;
      _tile_zero(0);
      if (pair) _tile_zero(1);
// Chunk c of 64 dimensions (16 groups) into the sums, the users' codes in tmm `a` and the items' in tmm
// `b0` and `b1` (tile registers are immediates: a macro, not a function).
#define AMX_CHUNK(a, b0, b1, c)                                 \
  do {                                                          \
    _tile_loadd(a, w + 64 * (c), stride);                       \
    _tile_loadd(b0, x + 64 * TILE * (c), 64);                   \
    _tile_dpbusd(0, a, b0);                                     \
    if (pair) {                                                 \
      _tile_loadd(b1, x + tile_bytes + 64 * TILE * (c), 64);    \
      _tile_dpbusd(1, a, b1);                                   \
    }                                                           \
  } while (0)
      for (int c = 0; c < full; c++) AMX_CHUNK(2, 4, 5, c);
      if (last) AMX_CHUNK(3, 6, 7, full);
#undef AMX_CHUNK
      _tile_stored(0, sums[0], 64);
      if (pair) _tile_stored(1, sums[1], 64);
      keep_tiles(p, sums, t, pair, u0, lists);
    }
  }
  // Gives the tile state back: a thread that holds none saves and restores none when it is switched.
  _tile_release();
}

// Passes of up to 32 users over ranks up to 64 (one multiply per tile): the whole pass fits the eight tile
// registers, so the users' codes stay in tmm2 and tmm3, each pair of item tiles is loaded once (tmm4,
// tmm5) for both groups of 16 users, and the four sums (tmm0, tmm1 the first group's, tmm6, tmm7 the
// second's) of the next pair are multiplied while the floors are compared on this pair's.
AMX static void amx_configure32(int groups) {
  tile_config_t c;
  memset(&c, 0, sizeof c);
  c.palette = 1;
  for (int r = 0; r < 8; r++) c.rows[r] = 16, c.bytes_per_row[r] = 64;
  c.bytes_per_row[2] = c.bytes_per_row[3] = (uint16_t)(4 * groups);
  c.rows[4] = c.rows[5] = (uint8_t)groups;
  _tile_loadconfig(&c);
}

// Multiplies the pair of tiles at x (the second only with `pair`) for both groups of users.
#define AMX32_MULTIPLY(x, pair, tile_bytes)     \
  do {                                          \
    _tile_loadd(4, (x), 64);                    \
    _tile_zero(0);                              \
    _tile_zero(6);                              \
    _tile_dpbusd(0, 2, 4);                      \
    _tile_dpbusd(6, 3, 4);                      \
    if (pair) {                                 \
      _tile_loadd(5, (x) + (tile_bytes), 64);   \
      _tile_zero(1);                            \
      _tile_zero(7);                            \
      _tile_dpbusd(1, 2, 5);                    \
      _tile_dpbusd(7, 3, 5);                    \
    }                                           \
  } while (0)

#define AMX32_STORE(sums, pair)                              \
  do {                                                       \
    _tile_stored(0, (sums)[0][0], 64);                       \
    _tile_stored(6, (sums)[1][0], 64);                       \
    if (pair) {                                              \
      _tile_stored(1, (sums)[0][1], 64);                     \
      _tile_stored(7, (sums)[1][1], 64);                     \
    }                                                        \
  } while (0)

AMX static void scan_amx32(const pass_t *p, int64_t first, int64_t end, list_t *lists) {
  const int groups = p->groups;
  const int64_t tile_bytes = (int64_t)groups * 4 * TILE, stride = (int64_t)groups * 4;
  // [user group][tile][user][item]
  int32_t sums[2][2][AMX_USERS][TILE] __attribute__((aligned(64)));
  amx_configure32(groups);
  // The pass's codes have rows for PASS users (zero past p->users).
  _tile_loadd(2, p->codes, stride);
  _tile_loadd(3, p->codes + AMX_USERS * stride, stride);
  int pair = end - first >= 2;
  AMX32_MULTIPLY(p->tiles + first * tile_bytes, pair, tile_bytes);
  AMX32_STORE(sums, pair);
  for (int64_t t = first; t < end; t += 2) {
    const int64_t next = t + 2;
    const int next_pair = end - next >= 2;
    const int8_t *x = p->tiles + next * tile_bytes;
    if (next < end) {
      for (int64_t b = 0; b < tile_bytes; b += 64) __builtin_prefetch(x + b + AHEAD, 0, 3);
      AMX32_MULTIPLY(x, next_pair, tile_bytes);
    }
    keep_tiles(p, sums[0], t, pair, 0, lists);
    if (next < end) for (int64_t b = tile_bytes; b < 2 * tile_bytes; b += 64) __builtin_prefetch(x + b + AHEAD, 0, 3);
    if (p->users > AMX_USERS) keep_tiles(p, sums[1], t, pair, AMX_USERS, lists);
    if (next < end) AMX32_STORE(sums, next_pair);
    pair = next_pair;
  }
  _tile_release();
}
#undef AMX32_MULTIPLY
#undef AMX32_STORE
#endif

// AVX2 without VNNI: a tile is two vectors of 8 items x 4 codes; vpmaddubsw (two uint8 x int8 products
// summed in int16: exact for 7-bit user codes) and vpmaddwd by ones (the pairs summed in int32) stand in
// for vpdpbusd. Up to 4 users at once: 8 accumulators, the codes, ones and a temporary fit 16 registers.
AVX2 INLINE void tile_avx2(const pass_t *p, int64_t t, int u0, list_t *lists, const int users) {
  const int8_t *x = p->tiles + t * (int64_t)p->groups * 4 * TILE;
  const uint32_t *w = (const uint32_t *)p->codes + (int64_t)u0 * p->groups;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[2][4];
  for (int u = 0; u < users; u++) acc[0][u] = acc[1][u] = _mm256_setzero_si256();
  for (int g = 0; g < p->groups; g++) {
    const __m256i c0 = _mm256_loadu_si256((const __m256i *)(x + g * 4 * TILE)), c1 = _mm256_loadu_si256((const __m256i *)(x + g * 4 * TILE + 32));
    for (int u = 0; u < users; u++) {
      const __m256i word = _mm256_set1_epi32((int32_t)w[u * p->groups + g]);
      acc[0][u] = _mm256_add_epi32(acc[0][u], _mm256_madd_epi16(_mm256_maddubs_epi16(word, c0), ones));
      acc[1][u] = _mm256_add_epi32(acc[1][u], _mm256_madd_epi16(_mm256_maddubs_epi16(word, c1), ones));
    }
  }
  const int64_t first = t * TILE;
  const __m256i off0 = _mm256_loadu_si256((const __m256i *)(p->offsets + first)), off1 = _mm256_loadu_si256((const __m256i *)(p->offsets + first + 8));
  const __m256 sc0 = _mm256_loadu_ps(p->scales + first), sc1 = _mm256_loadu_ps(p->scales + first + 8);
  for (int u = 0; u < users; u++) {
    const __m256 floor = _mm256_set1_ps(lists[u0 + u].floor);
    const __m256 a0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc[0][u], off0)), sc0);
    const __m256 a1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(acc[1][u], off1)), sc1);
    const uint32_t mask = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a0, floor, _CMP_GE_OQ)) |
                          (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(a1, floor, _CMP_GE_OQ)) << 8;
    if (mask) {
      float s[TILE];
      _mm256_storeu_ps(s, a0);
      _mm256_storeu_ps(s + 8, a1);
      keep_hits(p, u0 + u, &lists[u0 + u], mask, s, first);
    }
  }
}

AVX2 static void scan_avx2(const pass_t *p, int64_t first, int64_t end, list_t *lists) {
  for (int64_t t = first; t < end; t++)
    for (int u0 = 0; u0 < p->users; u0 += 4) {
      switch (p->users - u0) {
        case 1: tile_avx2(p, t, u0, lists, 1); break;
        case 2: tile_avx2(p, t, u0, lists, 2); break;
        case 3: tile_avx2(p, t, u0, lists, 3); break;
        default: tile_avx2(p, t, u0, lists, 4); break;
      }
    }
}
#endif

static isa_level level;
// The scan for passes of `fewest` users or more, and for fewer.
static scan_fn scan, scan_few;
static int fewest = AMX_FEWEST;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void pick_isa(void) {
  level = isa_for_int8();
  scan = scan_portable;
#if RECSERVE_AMX
  if (level == ISA_AMX) scan = scan_amx;
#endif
#if RECSERVE_X86
  if (level == ISA_AVX512) scan = scan_vnni;
  if (level == ISA_AVX2) scan = scan_avx2;
#endif
  scan_few = scan;
#if RECSERVE_X86
  if (level == ISA_AMX) scan_few = scan_vnni;
  if (level == ISA_AVX512) scan = scan_lanes, fewest = LANES;
#endif
}

isa_level topk_i8_isa(void) {
  pthread_once(&isa_once, pick_isa);
  return level;
}

// ---- one call ----

// Passes scanned together, a chunk of tiles at a time: each chunk is read from memory once for all of them
// and then from the cache, not once per pass.
#define ROUND_PASSES 8

// The tiles of a round, handed out a chunk at a time to whichever thread asks next: a thread the OS sets
// aside (scoring threads yield to the event loop) holds up at most its chunk, not an eighth of the items.
typedef struct {
  int64_t next, end, size;  // next: the first tile not handed out (atomic)
} chunks_t;

// A thread's part of a call: what it kept of the chunks it scanned, a list per user of the round (pass g's
// from passes[g].first_user). Aligned to cache lines, so that the threads never write to the same line.
typedef struct __attribute__((aligned(64))) {
  const pass_t *passes;
  int count;  // passes in the round
  chunks_t *chunks;
  list_t *lists;
} slice_t;

static void *scan_slice(void *arg) {
  slice_t *s = (slice_t *)arg;
  const pass_t *passes = s->passes;
  for (;;) {
    for (int g = 0; g < s->count; g++) share_floors(&passes[g], s->lists + passes[g].first_user);
    const int64_t first = __atomic_fetch_add(&s->chunks->next, s->chunks->size, __ATOMIC_RELAXED);
    if (first >= s->chunks->end) return NULL;
    const int64_t end = first + s->chunks->size < s->chunks->end ? first + s->chunks->size : s->chunks->end;
    for (int g = 0; g < s->count; g++) {
      const pass_t *p = &passes[g];
      scan_fn f = p->users >= fewest ? scan : scan_few;
#if RECSERVE_AMX
      if (f == scan_amx && p->users <= 2 * AMX_USERS && p->groups <= 16) f = scan_amx32;
#endif
      f(p, first, end, s->lists + p->first_user);
    }
  }
}

// Tiles per chunk: about 2,048 tile-users of work (a few microseconds), 32 to 256 tiles, even (the scans
// take tiles in pairs, and a chunk costs each pass of the round a start).
static int64_t chunk_tiles(int users) {
  int64_t size = 2048 / users;
  size = size < 32 ? 32 : size > 256 ? 256 : size;
  return size & ~(int64_t)1;
}

// Exact float32 scores, as the JavaScript re-score computes them: float products summed in double, in
// dimension order. Four items at a time: four independent chains of additions instead of one (each sum
// still adds its products in the same order, so the scores are the same to the bit).
#define RESCORE_WAYS 4
static void rescore(entry_t *e, int64_t n, const float *items, int rank, const float *user) {
  int64_t i = 0;
  for (; i + RESCORE_WAYS <= n; i += RESCORE_WAYS) {
    const float *x[RESCORE_WAYS];
    double sum[RESCORE_WAYS] = {0};
    for (int w = 0; w < RESCORE_WAYS; w++) x[w] = items + (int64_t)e[i + w].r * rank;
    for (int j = 0; j < rank; j++)
      for (int w = 0; w < RESCORE_WAYS; w++) sum[w] += (double)user[j] * (double)x[w][j];
    for (int w = 0; w < RESCORE_WAYS; w++) e[i + w].s = (float)sum[w];
  }
  for (; i < n; i++) {
    const float *x = items + (int64_t)e[i].r * rank;
    double sum = 0;
    for (int j = 0; j < rank; j++) sum += (double)user[j] * (double)x[j];
    e[i].s = (float)sum;
  }
}

// A user's 7-bit codes around 64, as model-store/quantize.ts's quantizeUser makes them for onnx-int8 (the
// bounds hold for whatever codes the user gets: they are computed from these).
static void quantize_user(const float *u, int rank, uint8_t *p) {
  float max = 0;
  for (int j = 0; j < rank; j++) max = fabsf(u[j]) > max ? fabsf(u[j]) : max;
  const double inverse = max == 0 ? 0 : (USER_ZERO - 1.0) / max;
  for (int j = 0; j < rank; j++) p[j] = (uint8_t)(USER_ZERO + (int)floor(u[j] * inverse + 0.5));
}

// A pass's codes ([user][group][4]) as scan_lanes reads them: [LANES users at a time][group][user][4].
static void to_lanes(const uint8_t *codes, int groups, uint8_t *lanes) {
  const uint32_t *from = (const uint32_t *)codes;
  uint32_t *to = (uint32_t *)lanes;
  for (int u = 0; u < PASS; u++)
    for (int g = 0; g < groups; g++) to[((u / LANES) * groups + g) * LANES + u % LANES] = from[u * groups + g];
}

// alpha = |u| / t and beta = |u - t (p - 64)| / t (0 for a zero user, whose scores are all 0), rounded up.
static void user_terms(const float *u, const uint8_t *p, int rank, double *alpha, double *beta) {
  double max = 0, norm = 0, diff = 0;
  for (int j = 0; j < rank; j++) max = fabs((double)u[j]) > max ? fabs((double)u[j]) : max;
  *alpha = *beta = 0;
  if (max == 0) return;
  const double t = max / (USER_ZERO - 1), up = 1 + ldexp(1.0, -20);
  for (int j = 0; j < rank; j++) {
    const double d = (double)u[j] - t * ((int)p[j] - USER_ZERO);
    norm += (double)u[j] * u[j], diff += d * d;
  }
  *alpha = sqrt(norm) / t * up;
  *beta = sqrt(diff) / t * up;
}

// A user's answer in the making, from every thread's kept items (places in the layout) to the best k.
// Answers are made a few users at a time (ANSWER_GROUP), each step for all of them before the next, so
// that the memory one step asks for (bounds, the layout's rows, the items' float32 rows: random places in
// tens of megabytes) arrives while the others are worked on. The answers were 11-15% of a call, most of it
// waiting for that memory; four at a time took 1-2% off the call.
typedef struct {
  const pass_t *p;
  int u;          // in its pass
  int64_t row;    // in the call's batch
  double alpha, beta;
  entry_t *kept;  // what reached the final floor, then the candidates (rows of the model)
  int64_t m;
} pending_t;

#define ANSWER_GROUP 4

// The user's kept items at or above the final floor (a thread keeps what it met before the floor rose);
// their bounds and rows asked for. -1 when memory runs out.
static int gather_kept(const slice_t *slices, int parts, const float *bounds, pending_t *q) {
  const int at = q->p->first_user + q->u;
  int64_t m = 0;
  for (int s = 0; s < parts; s++) m += slices[s].lists[at].count;
  q->kept = malloc(sizeof(entry_t) * (m ? m : 1));
  if (!q->kept) return -1;
  const float floor = floor_of(q->p, q->u);
  m = 0;
  for (int s = 0; s < parts; s++)
    for (int64_t i = 0; i < slices[s].lists[at].count; i++)
      if (slices[s].lists[at].e[i].s >= floor) q->kept[m++] = slices[s].lists[at].e[i];
  q->m = m;
  for (int64_t i = 0; i < m; i++) __builtin_prefetch(bounds + 2 * q->kept[i].r), __builtin_prefetch(q->p->rows + q->kept[i].r);
  return 0;
}

// The candidates the bounds cannot rule out (bounds rounded outwards, so that theta can only be lower and
// the candidates more), as rows of the model; their float32 rows asked for. -1 when memory runs out, -2
// when the layout's rows are not the model's.
static int pick_candidates(pending_t *q, const float *bounds, const float *items, int rank, int k) {
  entry_t *kept = q->kept;
  const int64_t m = q->m;
  float *lower = malloc(sizeof(float) * (m ? m : 1));
  if (!lower) return -1;
  for (int64_t i = 0; i < m; i++) {
    const float *b = bounds + 2 * (int64_t)kept[i].r;
    lower[i] = step((float)((double)kept[i].s - (q->alpha * b[0] + q->beta * b[1])), 0);
  }
  const float theta = kth_largest(lower, m, k);
  free(lower);
  int64_t n = 0;
  for (int64_t i = 0; i < m; i++) {
    const float *b = bounds + 2 * (int64_t)kept[i].r;
    if (step((float)((double)kept[i].s + (q->alpha * b[0] + q->beta * b[1])), 1) >= theta) kept[n++] = kept[i];
  }
  q->m = n;
  const int64_t row_bytes = (int64_t)rank * sizeof(float);
  for (int64_t i = 0; i < n; i++) {
    const int32_t row = q->p->rows[kept[i].r];
    if (row < 0 || row >= q->p->n) return -2;
    kept[i].r = row;
    for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch((const char *)(items + (int64_t)row * rank) + b);
  }
  return 0;
}

// The candidates re-scored exactly, and the best k of them written out.
static void write_best(pending_t *q, const float *items, int rank, const float *user, int k, int32_t *out_rows, float *out_scores) {
  rescore(q->kept, q->m, items, rank, user);
  select_best(q->kept, (int)q->m, k);
  sort_best(q->kept, k);
  for (int i = 0; i < k; i++) {
    out_rows[i] = q->kept[i].r;
    out_scores[i] = q->kept[i].s;
  }
}

// The answers of a round's users, taken ANSWER_GROUP at a time by whichever thread asks next (batch rows
// from `first`); one per thread.
#define ANSWERS_PER_THREAD 16
typedef struct __attribute__((aligned(64))) {
  const slice_t *slices;
  int parts, first, count, pass_users;
  int *next;  // the next user of the round without an answer (atomic), shared
  const pass_t *passes;
  const float *bounds;
  const double *alpha, *beta;
  const float *items;
  int rank;
  const float *users;
  int k;
  int32_t *out_rows;
  float *out_scores;
  int status;
} answers_t;

// The users [j0, j0 + n) of the round (n <= ANSWER_GROUP), each step for all of them; -1 or -2 as the
// steps say.
static int answer_group(const answers_t *a, int j0, int n) {
  pending_t q[ANSWER_GROUP];
  int status = 0;
  for (int i = 0; i < n; i++) {
    const int j = j0 + i;
    q[i] = (pending_t){&a->passes[j / a->pass_users], j % a->pass_users, a->first + j, a->alpha[j], a->beta[j], NULL, 0};
    if (status == 0) status = gather_kept(a->slices, a->parts, a->bounds, &q[i]);
  }
  for (int i = 0; i < n && status == 0; i++) status = pick_candidates(&q[i], a->bounds, a->items, a->rank, a->k);
  for (int i = 0; i < n && status == 0; i++)
    write_best(&q[i], a->items, a->rank, a->users + q[i].row * a->rank, a->k, a->out_rows + q[i].row * a->k, a->out_scores + q[i].row * a->k);
  for (int i = 0; i < n; i++) free(q[i].kept);
  return status;
}

static void *answer_users(void *arg) {
  answers_t *a = (answers_t *)arg;
  for (int j; a->status >= 0 && (j = __atomic_fetch_add(a->next, ANSWER_GROUP, __ATOMIC_RELAXED)) < a->count;) {
    const int status = answer_group(a, j, a->count - j < ANSWER_GROUP ? a->count - j : ANSWER_GROUP);
    if (status < 0) a->status = status;
  }
  return NULL;
}

// Each user's kept items: one block per thread, PASS users a pass; a list that outgrows its place in the
// block moves to memory of its own (compact).
typedef struct {
  entry_t *entries;
  float *best;
} blocks_t;

int topk_i8(const int8_t *tiles, const int32_t *offsets, const float *scales, const float *bounds, const int32_t *rows, const float *items, int64_t num_items,
            int rank, const float *users, int batch, int k, const int32_t *ex_rows, const int32_t *ex_offsets, int threads, int32_t *out_rows, float *out_scores) {
  if (k > num_items) k = (int)num_items;
  const int groups = groups_for(rank);
  const int64_t tiles_n = tiles_for(num_items), padded = tiles_n * TILE;
  if (threads < 1) threads = 1;
  // A matrix this small is scanned in microseconds, less than starting a thread costs.
  if (num_items * rank < (1 << 22)) threads = 1;
  const int parts = threads;
  topk_i8_isa();
  // With AMX over ranks up to 64, passes of 32 (scan_amx32, a pass per 32 users, measured faster per user
  // than 64 to a pass: 26.5-27.4 against 29.1-30.5 us on one thread).
  const int pass_users = level == ISA_AMX && groups <= 16 ? 2 * AMX_USERS : PASS;
  const int passes_n = (batch + pass_users - 1) / pass_users < ROUND_PASSES ? (batch + pass_users - 1) / pass_users : ROUND_PASSES;
  // Lists for the users a round can hold, no more: a lone request allocates one per thread.
  const int round_users = batch < passes_n * pass_users ? batch : passes_n * pass_users;
  const int64_t most_kept = 4 * (int64_t)k + 64, cap = most_kept < num_items ? most_kept : num_items;
  const size_t code_bytes = (size_t)PASS * groups * 4;

  uint8_t *codes = malloc(code_bytes * passes_n);
  // scan_lanes's copy of the codes, where it may scan.
  const int lanes_wanted = level == ISA_AVX512 && batch >= fewest;
  uint8_t *lanes = lanes_wanted ? malloc(code_bytes * passes_n) : NULL;
  float *widths = malloc(sizeof(float) * passes_n * pass_users), *floors = aligned_alloc(64, sizeof(float) * ((passes_n * pass_users + 15) & ~15));
  double *alpha = malloc(sizeof(double) * passes_n * pass_users), *beta = malloc(sizeof(double) * passes_n * pass_users);
  pass_t *passes = malloc(sizeof(pass_t) * passes_n);
  slice_t *slices = aligned_alloc(64, sizeof(slice_t) * parts);
  list_t *lists = calloc((size_t)parts * passes_n * pass_users, sizeof(list_t));
  blocks_t *blocks = calloc((size_t)parts, sizeof(blocks_t));
  int status = codes && (lanes || !lanes_wanted) && widths && floors && alpha && beta && passes && slices && lists && blocks ? k : -1;
  for (int s = 0; s < parts && status >= 0; s++) {
    blocks[s].entries = malloc(sizeof(entry_t) * cap * round_users);
    blocks[s].best = malloc(sizeof(float) * (k ? k : 1) * round_users);
    if (!blocks[s].entries || !blocks[s].best) status = -1;
    slices[s].lists = lists + (int64_t)s * passes_n * pass_users;
  }
  for (int first = 0; first < batch && status >= 0; first += passes_n * pass_users) {
    const int count = batch - first < passes_n * pass_users ? batch - first : passes_n * pass_users;
    const int round = (count + pass_users - 1) / pass_users;
    memset(codes, 0, code_bytes * round);
    for (int j = 0; j < count; j++) {
      uint8_t *q = codes + (j / pass_users) * code_bytes + (int64_t)(j % pass_users) * groups * 4;
      quantize_user(users + (int64_t)(first + j) * rank, rank, q);
      user_terms(users + (int64_t)(first + j) * rank, q, rank, &alpha[j], &beta[j]);
      widths[j] = (float)(2 * (alpha[j] * bounds[2 * padded] + beta[j] * bounds[2 * padded + 1]) * (1 + ldexp(1.0, -20)));
      floors[j] = -INFINITY;
    }
    for (int g = 0; g < round; g++) {
      const int in_pass = count - g * pass_users < pass_users ? count - g * pass_users : pass_users;
      const int by_lanes = lanes && in_pass >= fewest;
      if (by_lanes) to_lanes(codes + g * code_bytes, groups, lanes + g * code_bytes);
      passes[g] = (pass_t){tiles, offsets, scales, rows, num_items, rank, groups, in_pass, k, codes + g * code_bytes, by_lanes ? lanes + g * code_bytes : NULL,
                           widths + g * pass_users, floors + g * pass_users, g * pass_users, ex_rows, ex_offsets ? ex_offsets + first + g * pass_users : NULL};
    }
    chunks_t chunks = {0, tiles_n, chunk_tiles(count)};
    for (int s = 0; s < parts; s++) {
      slices[s].passes = passes, slices[s].count = round, slices[s].chunks = &chunks;
      for (int j = 0; j < count; j++) {
        list_t *l = &slices[s].lists[j];
        if (l->own) free(l->e);
        *l = (list_t){blocks[s].entries + (int64_t)j * cap, 0, cap, blocks[s].best + (int64_t)j * k, -INFINITY, 0, 0, 0};
      }
    }
    run_parallel(scan_slice, slices, sizeof(slice_t), parts, threads);
    for (int s = 0; s < parts; s++)
      for (int j = 0; j < count; j++)
        if (slices[s].lists[j].failed) status = -1;
    if (status < 0) break;
    // Shared when each thread gets a few dozen users: handing fewer to another thread costs more than it saves.
    const int answer_parts = count >= ANSWERS_PER_THREAD * 2 ? threads : 1;
    answers_t *jobs = aligned_alloc(64, sizeof(answers_t) * answer_parts);
    if (!jobs) { status = -1; break; }
    int next = 0;
    for (int a = 0; a < answer_parts; a++)
      jobs[a] = (answers_t){slices, parts, first, count, pass_users, &next, passes, bounds, alpha, beta, items, rank, users, k, out_rows, out_scores, 0};
    run_parallel(answer_users, jobs, sizeof(answers_t), answer_parts, threads);
    for (int a = 0; a < answer_parts; a++)
      if (jobs[a].status < 0) status = jobs[a].status;
    free(jobs);
  }
  for (int64_t j = 0; lists && j < (int64_t)parts * passes_n * pass_users; j++)
    if (lists[j].own) free(lists[j].e);
  for (int s = 0; blocks && s < parts; s++) free(blocks[s].entries), free(blocks[s].best);
  free(blocks), free(lists), free(slices), free(passes), free(alpha), free(beta), free(floors), free(widths), free(codes), free(lanes);
  return status;
}
