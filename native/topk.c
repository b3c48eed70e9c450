// Exact top-k of dot products between a few user vectors and every row of a float32 item matrix, in one
// pass over the matrix: each row is read once, scored against every user while it is in cache, and kept
// in a per-user min-heap of the best k so far. Rows are split into slices that threads take in turn;
// the slices' heaps are merged.
#include <pthread.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "isa.h"
#include "select.h"
#include "topk.h"

// (sa, ra) ranks below (sb, rb): lower score, or the same score and a higher row (rows ascend with item id).
static inline int worse(float sa, int32_t ra, float sb, int32_t rb) { return sa < sb || (sa == sb && ra > rb); }

static void sift_down(float *s, int32_t *r, int n, int i) {
  for (;;) {
    int l = 2 * i + 1, w = i;
    if (l < n && worse(s[l], r[l], s[w], r[w])) w = l;
    if (l + 1 < n && worse(s[l + 1], r[l + 1], s[w], r[w])) w = l + 1;
    if (w == i) return;
    float ts = s[i]; s[i] = s[w]; s[w] = ts;
    int32_t tr = r[i]; r[i] = r[w]; r[w] = tr;
    i = w;
  }
}

static void heap_push(float *s, int32_t *r, int *n, int k, float score, int32_t row) {
  if (*n < k) {
    int i = (*n)++;
    s[i] = score; r[i] = row;
    while (i > 0) {
      int p = (i - 1) / 2;
      if (!worse(s[i], r[i], s[p], r[p])) break;
      float ts = s[i]; s[i] = s[p]; s[p] = ts;
      int32_t tr = r[i]; r[i] = r[p]; r[p] = tr;
      i = p;
    }
  } else if (worse(s[0], r[0], score, row)) {
    s[0] = score; r[0] = row;
    sift_down(s, r, k, 0);
  }
}

// Dot products of 4 rows (x, x + stride, x + 2 stride, x + 3 stride) with each of `batch` users:
// out[4 b + q] is row q's with user b. Each row chunk is loaded once for a tile of users (3 with AVX2, 4 with
// AVX-512: 12 or 16 accumulators, so the FMA units have independent chains; 3 x 4 measured 14% faster than
// 2 x 4 on a batch of 8 with AVX2), and each user's 4 dot products
// are summed horizontally in one tree. One version per instruction set, picked once per process.
typedef void (*score4_fn)(const float *x, int64_t stride, const float *users, int batch, int rank, float *out);

// Batches of several users put users in lanes instead: 8 users' vectors transposed ([rank][8], zero for
// missing users), and for each of 8 consecutive rows, the row's value at each dimension broadcast and
// multiplied into all 8 users at once. No horizontal sums, and one comparison tests 8 users' floors.
// Measured on AVX2, one thread (lanes against tiles): a batch of 8 at 100,000 x 64 1.32 ms against 1.67 ms;
// at 43,331 x 15 0.148 against 0.414 ms, and already 0.135 against 0.150 ms for 2 users (tiles waste
// their masked tails and horizontal sums on short vectors); below 7 users at rank 64 the tiles win (3 users
// cost what one does, the scan being bound by reading the matrix); past rank 64 the tiles win at every batch
// (rank 128, 8 users: 3.15 against 3.64 ms).
#define LANE_ROWS 8
#define LANE_MAX_RANK 64

// The fewest users worth a group of lanes, at this rank.
static int lane_min(int rank) { return rank < 32 ? 2 : 7; }

#if RECSERVE_X86
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

// [sum(a0), sum(a1), sum(a2), sum(a3)] in three horizontal adds and one lane add.
AVX2 INLINE __m128 sum4_avx2(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
  const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

// The rank's last (rank % 8) values: masked loads read nothing past them.
AVX2 INLINE __m256 tail_avx2(const float *p, __m256i mask) { return _mm256_maskload_ps(p, mask); }

AVX2 INLINE void tile_avx2(const float *x, int64_t stride, const float *u, int rank, const int users, float *out) {
  __m256 a[3][4];
  for (int b = 0; b < users; b++)
    for (int q = 0; q < 4; q++) a[b][q] = _mm256_setzero_ps();
  int j = 0;
  for (; j + 8 <= rank; j += 8) {
    const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + stride + j), x2 = _mm256_loadu_ps(x + 2 * stride + j), x3 = _mm256_loadu_ps(x + 3 * stride + j);
    for (int b = 0; b < users; b++) {
      const __m256 v = _mm256_loadu_ps(u + b * rank + j);
      a[b][0] = _mm256_fmadd_ps(x0, v, a[b][0]);
      a[b][1] = _mm256_fmadd_ps(x1, v, a[b][1]);
      a[b][2] = _mm256_fmadd_ps(x2, v, a[b][2]);
      a[b][3] = _mm256_fmadd_ps(x3, v, a[b][3]);
    }
  }
  if (j < rank) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(rank - j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 x0 = tail_avx2(x + j, m), x1 = tail_avx2(x + stride + j, m), x2 = tail_avx2(x + 2 * stride + j, m), x3 = tail_avx2(x + 3 * stride + j, m);
    for (int b = 0; b < users; b++) {
      const __m256 v = tail_avx2(u + b * rank + j, m);
      a[b][0] = _mm256_fmadd_ps(x0, v, a[b][0]);
      a[b][1] = _mm256_fmadd_ps(x1, v, a[b][1]);
      a[b][2] = _mm256_fmadd_ps(x2, v, a[b][2]);
      a[b][3] = _mm256_fmadd_ps(x3, v, a[b][3]);
    }
  }
  for (int b = 0; b < users; b++) _mm_storeu_ps(out + 4 * b, sum4_avx2(a[b][0], a[b][1], a[b][2], a[b][3]));
}

AVX2 static void score4_avx2(const float *x, int64_t stride, const float *users, int batch, int rank, float *out) {
  int b = 0;
  for (; b + 3 <= batch; b += 3) tile_avx2(x, stride, users + (int64_t)b * rank, rank, 3, out + 4 * b);
  if (batch - b == 2) tile_avx2(x, stride, users + (int64_t)b * rank, rank, 2, out + 4 * b);
  if (batch - b == 1) tile_avx2(x, stride, users + (int64_t)b * rank, rank, 1, out + 4 * b);
}

AVX512 INLINE __m256 fold512(__m512 v) { return _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))); }

// Full chunks use plain loads and the rank's tail a masked one: masking every load measured about twice as slow.
AVX512 INLINE void tile_avx512(const float *x, int64_t stride, const float *u, int rank, const int users, float *out) {
  __m512 a[4][4];
  for (int b = 0; b < users; b++)
    for (int q = 0; q < 4; q++) a[b][q] = _mm512_setzero_ps();
  for (int j = 0; j < rank; j += 16) {
    const __mmask16 m = rank - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (rank - j)) - 1);
    __m512 x0, x1, x2, x3;
    if (m == 0xFFFF) {
      x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + stride + j), x2 = _mm512_loadu_ps(x + 2 * stride + j), x3 = _mm512_loadu_ps(x + 3 * stride + j);
    } else {
      x0 = _mm512_maskz_loadu_ps(m, x + j), x1 = _mm512_maskz_loadu_ps(m, x + stride + j), x2 = _mm512_maskz_loadu_ps(m, x + 2 * stride + j);
      x3 = _mm512_maskz_loadu_ps(m, x + 3 * stride + j);
    }
    for (int b = 0; b < users; b++) {
      const __m512 v = _mm512_maskz_loadu_ps(m, u + b * rank + j);
      a[b][0] = _mm512_fmadd_ps(x0, v, a[b][0]);
      a[b][1] = _mm512_fmadd_ps(x1, v, a[b][1]);
      a[b][2] = _mm512_fmadd_ps(x2, v, a[b][2]);
      a[b][3] = _mm512_fmadd_ps(x3, v, a[b][3]);
    }
  }
  for (int b = 0; b < users; b++) _mm_storeu_ps(out + 4 * b, sum4_avx2(fold512(a[b][0]), fold512(a[b][1]), fold512(a[b][2]), fold512(a[b][3])));
}

AVX512 static void score4_avx512(const float *x, int64_t stride, const float *users, int batch, int rank, float *out) {
  int b = 0;
  for (; b + 4 <= batch; b += 4) tile_avx512(x, stride, users + (int64_t)b * rank, rank, 4, out + 4 * b);
  switch (batch - b) {
    case 3: tile_avx512(x, stride, users + (int64_t)b * rank, rank, 3, out + 4 * b); break;
    case 2: tile_avx512(x, stride, users + (int64_t)b * rank, rank, 2, out + 4 * b); break;
    case 1: tile_avx512(x, stride, users + (int64_t)b * rank, rank, 1, out + 4 * b); break;
  }
}

// Scores rows x .. x + 7 rank against one group of 8 users into out[8 q + lane]; returns which scores reach
// their user's floor, bit 8 q + lane, so the caller visits those alone (visiting all 64 whenever any hit cost
// as much as the scoring once the floors are low: a top-30 scan of 8 users took 1.30x a top-10 one).
AVX2 static uint64_t lanes8_avx2(const float *x, int rank, const float *ut, const float *floor, float *out) {
  __m256 a[LANE_ROWS];
#pragma GCC unroll 8
  for (int q = 0; q < LANE_ROWS; q++) a[q] = _mm256_setzero_ps();
  for (int j = 0; j < rank; j++) {
    const __m256 u = _mm256_loadu_ps(ut + 8 * j);
#pragma GCC unroll 8
    for (int q = 0; q < LANE_ROWS; q++) a[q] = _mm256_fmadd_ps(_mm256_broadcast_ss(x + q * rank + j), u, a[q]);
  }
  const __m256 f = _mm256_loadu_ps(floor);
  uint64_t hits = 0;
#pragma GCC unroll 8
  for (int q = 0; q < LANE_ROWS; q++) {
    _mm256_storeu_ps(out + 8 * q, a[q]);
    hits |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(a[q], f, _CMP_GE_OQ)) << (8 * q);
  }
  return hits;
}

// The same for `groups` (2 or 3) consecutive groups of 8 users on 4 rows (from row `from` of a block): each
// broadcast row value feeds every group, so 3 groups take 7 loads per 12 multiply-adds where one group takes
// 9 per 8, the load ports' limit. Group g's scores go to out[64 g + 8 (from + q) + lane], its hits to hits[g].
AVX2 INLINE void lanes4_groups_avx2(const float *x, int rank, const float *ut, const int groups, const float *floor, float *out, int from, uint64_t *hits) {
  __m256 a[3][4];
  for (int g = 0; g < groups; g++)
    for (int q = 0; q < 4; q++) a[g][q] = _mm256_setzero_ps();
  for (int j = 0; j < rank; j++) {
    __m256 u[3];
    for (int g = 0; g < groups; g++) u[g] = _mm256_loadu_ps(ut + (int64_t)g * rank * 8 + 8 * j);
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
      const __m256 v = _mm256_broadcast_ss(x + q * rank + j);
      for (int g = 0; g < groups; g++) a[g][q] = _mm256_fmadd_ps(v, u[g], a[g][q]);
    }
  }
  for (int g = 0; g < groups; g++) {
    const __m256 f = _mm256_loadu_ps(floor + 8 * g);
    for (int q = 0; q < 4; q++) {
      _mm256_storeu_ps(out + 64 * g + 8 * (from + q), a[g][q]);
      hits[g] |= (uint64_t)_mm256_movemask_ps(_mm256_cmp_ps(a[g][q], f, _CMP_GE_OQ)) << (8 * (from + q));
    }
  }
}

// A block of 8 rows against the next 3 groups, or 2 when 2 are left (two halves of 4 rows); returns how many
// it scored, 0 when fewer than 2 are left (one group takes lanes8).
AVX2 static int lanes_groups_avx2(const float *x, int rank, const float *ut, int left, const float *floor, float *out, uint64_t *hits) {
  const int groups = left >= 3 ? 3 : left == 2 ? 2 : 0;
  for (int from = 0; groups && from < LANE_ROWS; from += 4) {
    if (groups == 3) lanes4_groups_avx2(x + (int64_t)from * rank, rank, ut, 3, floor, out, from, hits);
    else lanes4_groups_avx2(x + (int64_t)from * rank, rank, ut, 2, floor, out, from, hits);
  }
  return groups;
}

// AVX-512 holds two groups in one 16-lane register, their vectors interleaved ([rank][16] per pair, see
// transpose_users), so each multiply-add serves 16 users: 4 rows x `pairs` (1 to 3) pairs of groups, from row
// `from` of a block. Lanes 0-7 belong to the pair's first group, 8-15 to its second; scores and hits go where
// lanes8 puts them for each group. The same sums in the same order, so the same bits, as with AVX2.
AVX512 INLINE void lanes4_pairs_avx512(const float *x, int rank, const float *ut, const int pairs, const float *floor, float *out, int from, uint64_t *hits) {
  __m512 a[3][4];
  for (int p = 0; p < pairs; p++)
    for (int q = 0; q < 4; q++) a[p][q] = _mm512_setzero_ps();
  for (int j = 0; j < rank; j++) {
    __m512 u[3];
    for (int p = 0; p < pairs; p++) u[p] = _mm512_loadu_ps(ut + (int64_t)p * rank * 16 + 16 * j);
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
      const __m512 v = _mm512_set1_ps(x[q * rank + j]);
      for (int p = 0; p < pairs; p++) a[p][q] = _mm512_fmadd_ps(v, u[p], a[p][q]);
    }
  }
  for (int p = 0; p < pairs; p++) {
    const __m512 f = _mm512_loadu_ps(floor + 16 * p);
    for (int q = 0; q < 4; q++) {
      const int at = 8 * (from + q);
      _mm256_storeu_ps(out + 128 * p + at, _mm512_castps512_ps256(a[p][q]));
      _mm256_storeu_ps(out + 128 * p + 64 + at, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[p][q]), 1)));
      const uint64_t mask = _mm512_cmp_ps_mask(a[p][q], f, _CMP_GE_OQ);
      hits[2 * p] |= (mask & 0xFF) << at;
      hits[2 * p + 1] |= (mask >> 8) << at;
    }
  }
}

// A block of 8 rows against the next 6, 4 or 2 groups (3, 2 or 1 pairs); returns how many, 0 when one is left.
AVX512 static int lanes_pairs_avx512(const float *x, int rank, const float *ut, int left, const float *floor, float *out, uint64_t *hits) {
  const int pairs = left / 2 >= 3 ? 3 : left / 2;
  for (int from = 0; pairs && from < LANE_ROWS; from += 4) {
    const float *rows = x + (int64_t)from * rank;
    if (pairs == 3) lanes4_pairs_avx512(rows, rank, ut, 3, floor, out, from, hits);
    else if (pairs == 2) lanes4_pairs_avx512(rows, rank, ut, 2, floor, out, from, hits);
    else lanes4_pairs_avx512(rows, rank, ut, 1, floor, out, from, hits);
  }
  return 2 * pairs;
}
#endif

// Portable: GCC vector extensions of 4 floats, SSE2 on x86-64 and NEON on ARM64, so no intrinsics are needed.
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
  v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static void score4_portable(const float *x, int64_t stride, const float *users, int batch, int rank, float *out) {
  for (int b = 0; b < batch; b++) {
    const float *u = users + (int64_t)b * rank;
    v4f a[4] = {{0}, {0}, {0}, {0}};
    int j = 0;
    for (; j + 4 <= rank; j += 4) {
      const v4f uj = load4(u + j);
      for (int r = 0; r < 4; r++) a[r] += load4(x + r * stride + j) * uj;
    }
    for (int r = 0; r < 4; r++) {
      float t = (a[r][0] + a[r][1]) + (a[r][2] + a[r][3]);
      for (int i = j; i < rank; i++) t += x[r * stride + i] * u[i];
      out[4 * b + r] = t;
    }
  }
}

typedef uint64_t (*lanes8_fn)(const float *x, int rank, const float *ut, const float *floor, float *out);
// Scores a block against several of the `left` groups at once; returns how many (up to MAX_GROUPS_AT_ONCE).
typedef int (*lanes_groups_fn)(const float *x, int rank, const float *ut, int left, const float *floor, float *out, uint64_t *hits);
#define MAX_GROUPS_AT_ONCE 6

static isa_level level;
static score4_fn score4;
static lanes8_fn lanes8;  // NULL where users stay in tiles (the portable build)
static lanes_groups_fn lanes_groups;
static int paired_lanes;  // whether lanes_groups wants groups' vectors interleaved in pairs (AVX-512)
static pthread_once_t score4_once = PTHREAD_ONCE_INIT;

static void pick_score4(void) {
  level = isa_for_float32();
  score4 = score4_portable;
  lanes8 = NULL;
  lanes_groups = NULL;
  paired_lanes = 0;
#if RECSERVE_X86
  // AVX-512 machines use the AVX2 lanes for a lone group: a batch of 8 fills one 8-lane vector (1.23 ms
  // against 1.67 ms for AVX-512 tiles at 100,000 x 64); pairs of groups fill 16-lane ones.
  if (level == ISA_AVX512) score4 = score4_avx512, lanes8 = lanes8_avx2, lanes_groups = lanes_pairs_avx512, paired_lanes = 1;
  if (level == ISA_AVX2) score4 = score4_avx2, lanes8 = lanes8_avx2, lanes_groups = lanes_groups_avx2;
#endif
}

static int uses_lanes(int batch, int rank) { return lanes8 != NULL && rank <= LANE_MAX_RANK && batch >= lane_min(rank); }

isa_level topk_f32_isa(void) {
  pthread_once(&score4_once, pick_score4);
  return level;
}

// Each user's best k so far, for one slice of rows: heaps of k (scores hs, rows hr), how full each is, and
// its floor, the score below which nothing can enter (the heap's worst once it is full), so most rows are
// turned away by one comparison. Rows a user excludes (sorted ex_rows[ex_offsets[b] .. ex_offsets[b + 1]),
// or none) never enter: the scan asks for the top k, not k plus the exclusions.
typedef struct {
  float *hs;
  int32_t *hr;
  int *fill;
  float *floor;
  int k;
  const int32_t *ex_rows, *ex_offsets;
} heaps_t;

// Whether user b excludes row: a binary search, reached only by scores at or above the floor.
static int excluded(const heaps_t *h, int b, int32_t row) {
  int lo = h->ex_offsets[b], hi = h->ex_offsets[b + 1];
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (h->ex_rows[mid] < row) lo = mid + 1;
    else hi = mid;
  }
  return lo < h->ex_offsets[b + 1] && h->ex_rows[lo] == row;
}

// Keeps (score, row) in user b's heap if it ranks among the best k so far.
static inline void keep(const heaps_t *h, int b, float score, int32_t row) {
  const int k = h->k;
  float *s = h->hs + (int64_t)b * k;
  int32_t *r = h->hr + (int64_t)b * k;
  if ((h->fill[b] < k || worse(s[0], r[0], score, row)) && !(h->ex_rows && excluded(h, b, row))) {
    heap_push(s, r, &h->fill[b], k, score, row);
    if (h->fill[b] == k) h->floor[b] = s[0];
  }
}

// Rows past the last whole block, one at a time.
static void score_tail(const float *items, int rank, const float *users, int batch, int64_t from, int64_t end, const heaps_t *h) {
  for (int64_t row = from; row < end; row++) {
    for (int b = 0; b < batch; b++) {
      const float *x = items + row * rank, *u = users + (int64_t)b * rank;
      float sum = 0.f;
      for (int j = 0; j < rank; j++) sum += u[j] * x[j];
      keep(h, b, sum, (int32_t)row);
    }
  }
}

// Rows are read as 4 sequential streams, one per quarter of the slice, 4 rows at a time (one from each):
// measured 1.2x faster from memory than one stream 4 rows at a time at 1M x 64 (13.8 vs 11.1 GB/s on one
// thread, where a plain AVX-512 sum of the same mapped file reads 14.5), with a prefetch 1 KiB ahead in
// each stream (best of 512 B - 16 KiB).
static void score_rows_tiled(const float *items, int rank, const float *users, int batch, int64_t start, int64_t end, const heaps_t *h, float *d) {
  const float *floor = h->floor;
  const int64_t quarter = (end - start) / 4, ahead = 1024 / sizeof(float);
  const char *stop = (const char *)(items + end * rank);
  for (int64_t row = start; row < start + quarter; row++) {
    for (int q = 0; q < 4; q++) {
      const char *next = (const char *)(items + (row + q * quarter) * rank + ahead);
      for (int64_t off = 0; off < (int64_t)rank * 4 && next + off < stop; off += 64) __builtin_prefetch(next + off, 0, 3);
    }
    score4(items + row * rank, quarter * rank, users, batch, rank, d);
    for (int b = 0; b < batch; b++) {
      const float *m = d + 4 * b, f = floor[b];
      if ((m[0] >= f) | (m[1] >= f) | (m[2] >= f) | (m[3] >= f))
        for (int q = 0; q < 4; q++) keep(h, b, m[q], (int32_t)(row + q * quarter));
    }
  }
  score_tail(items, rank, users, batch, start + 4 * quarter, end, h);
}

// Users in whole groups of 8 lanes, a last partial group of lane_min(rank) or more counting as one; fewer
// left over stay in tiles.
static int lane_groups(int batch, int rank) { return batch / 8 + (batch % 8 >= lane_min(rank)); }

// The rows' dot products with the tiled users (users past the lane groups) in blocks of 4, kept like any others.
static void keep_tiled(const float *x, int rank, const float *users, int from, int batch, int64_t row, const heaps_t *h, float *d) {
  const float *floor = h->floor;
  for (int i = 0; i < LANE_ROWS; i += 4) {
    score4(x + (int64_t)i * rank, rank, users + (int64_t)from * rank, batch - from, rank, d);
    for (int b = from; b < batch; b++)
      for (int q = 0; q < 4; q++)
        if (d[4 * (b - from) + q] >= floor[b]) keep(h, b, d[4 * (b - from) + q], (int32_t)(row + i + q));
  }
}

// Keeps group g's scores of a block (d[8 q + lane]) that `hits` says reach their floor: row by row, users in
// order, as the bits ascend; a keep may raise a floor the block compared against, so each is checked again.
static void keep_hits(uint64_t hits, int g, const float *d, int batch, int64_t row, const heaps_t *h) {
  for (; hits; hits &= hits - 1) {
    const int bit = __builtin_ctzll(hits), b = 8 * g + (bit & 7);
    if (b < batch && d[bit] >= h->floor[b]) keep(h, b, d[bit], (int32_t)(row + (bit >> 3)));
  }
}

// Blocks of LANE_ROWS rows in order, each scored against every group of 8 users (`ut`: the groups' transposed
// vectors) while it is in cache, several groups at a time where there are. Padding lanes have an infinite
// floor, so they never reach a heap. The next block is prefetched once (one block ahead measured best of
// 1-8; a prefetch past the mapping cannot fault on x86); prefetching it again for every group took 12% of a
// 32-user scan.
static void score_rows_lanes(const float *items, int rank, const float *users, const float *ut, int batch, int64_t start, int64_t end, const heaps_t *h, float *d) {
  float *floor = h->floor;
  const int groups = lane_groups(batch, rank), in_lanes = 8 * groups < batch ? 8 * groups : batch;
  for (int b = batch; b < 8 * groups; b++) floor[b] = INFINITY;
  int64_t row = start;
  for (; row + LANE_ROWS <= end; row += LANE_ROWS) {
    const float *x = items + row * rank;
    const char *ahead = (const char *)(x + LANE_ROWS * rank);
    for (int off = 0; off < LANE_ROWS * rank * 4; off += 64) __builtin_prefetch(ahead + off, 0, 3);
    int g = 0;
    for (;;) {
      uint64_t hits[MAX_GROUPS_AT_ONCE] = {0};
      const int n = lanes_groups(x, rank, ut + (int64_t)g * rank * 8, groups - g, floor + 8 * g, d, hits);
      if (n == 0) break;
      for (int i = 0; i < n; i++) keep_hits(hits[i], g + i, d + 64 * i, batch, row, h);
      g += n;
    }
    if (g < groups) keep_hits(lanes8(x, rank, ut + (int64_t)g * rank * 8, floor + 8 * g, d), g, d, batch, row, h);
    if (in_lanes < batch) keep_tiled(x, rank, users, in_lanes, batch, row, h, d);
  }
  score_tail(items, rank, users, batch, row, end, h);
}

typedef struct {
  const float *items, *users, *ut;  // ut: the users in lanes, or NULL
  int rank, batch;
  int64_t start, end;
  heaps_t heaps;
  float *dots;  // 4 dot products per user, or the 64 of a block of lanes for each group scored at once
} slice_t;

// The lane groups' users, each group [rank][8] with zeros in the lanes past the batch's last user; where
// lanes_groups takes pairs (AVX-512), each whole pair of groups is [rank][16] instead, its first group in lanes
// 0-7. Either way group g starts at g * rank * 8.
static float *transpose_users(const float *users, int batch, int rank) {
  const int groups = lane_groups(batch, rank), in_lanes = 8 * groups < batch ? 8 * groups : batch;
  const int paired = paired_lanes ? groups / 2 * 2 : 0;
  float *ut = calloc((size_t)groups * rank * 8, sizeof(float));
  if (!ut) return NULL;
  for (int b = 0; b < in_lanes; b++) {
    const int g = b / 8;
    for (int j = 0; j < rank; j++) {
      const int64_t at = g < paired ? ((int64_t)(g / 2) * rank + j) * 16 + 8 * (g % 2) + b % 8 : ((int64_t)g * rank + j) * 8 + b % 8;
      ut[at] = users[(int64_t)b * rank + j];
    }
  }
  return ut;
}

static void *run_slice(void *arg) {
  slice_t *t = (slice_t *)arg;
  for (int b = 0; b < t->batch; b++) t->heaps.floor[b] = -INFINITY;
  if (t->ut) score_rows_lanes(t->items, t->rank, t->users, t->ut, t->batch, t->start, t->end, &t->heaps, t->dots);
  else score_rows_tiled(t->items, t->rank, t->users, t->batch, t->start, t->end, &t->heaps, t->dots);
  return NULL;
}

// n 4-byte values rounded up to whole 64-byte cache lines.
static int64_t in_lines(int64_t n) { return (n + 15) / 16 * 16; }

// Scans of a matrix under 8 MB stay on the calling thread: there, waking a scoring thread and merging its
// heaps cost more than it saves (43,331 x 15 on AVX2: 8 users 0.150 ms on one thread, 0.333 ms on two; 64
// users 1.245 against 1.415 ms), while a larger matrix pays for it (100,000 x 64: one user 0.86 against
// 0.47 ms, 32 users 4.82 against 2.84 ms).
static int worth_threads(int64_t num_items, int rank) { return (double)num_items * rank * sizeof(float) >= 8e6; }

int topk_f32(const float *items, int64_t num_items, int rank, const float *users, int batch, int k, const int32_t *ex_rows, const int32_t *ex_offsets, int threads,
             int32_t *out_rows, float *out_scores) {
  if (k > num_items) k = (int)num_items;
  if (threads < 1) threads = 1;
  if (!worth_threads(num_items, rank)) threads = 1;
  if (threads > num_items) threads = (int)(num_items > 0 ? num_items : 1);
  // Chosen once per process (several threads may call at the same time), before any slice runs.
  topk_f32_isa();
  int parts = slices_for(threads);
  if (parts > num_items) parts = (int)(num_items > 0 ? num_items : 1);
  // What each slice writes starts on its own cache lines: slices that shared a line with their neighbours'
  // floors and dot products took 1.31 ms instead of 1.02 for 8 users at 100,000 x 64 on two threads.
  const int64_t per_heap = in_lines((int64_t)batch * k), fills = in_lines(batch);
  float *hs = aligned_alloc(64, sizeof(float) * per_heap * parts);
  int32_t *hr = aligned_alloc(64, sizeof(int32_t) * per_heap * parts);
  int *fill = aligned_alloc(64, sizeof(int) * fills * parts);
  slice_t *slices = malloc(sizeof(slice_t) * parts);
  entry_t *merged = malloc(sizeof(entry_t) * (size_t)k * parts);
  // Per slice: each user's floor (padded to whole groups of 8 lanes) and the dot products of one step.
  const int64_t floors = in_lines(batch), dots = in_lines(4 * batch > MAX_GROUPS_AT_ONCE * 8 * LANE_ROWS ? 4 * batch : MAX_GROUPS_AT_ONCE * 8 * LANE_ROWS);
  float *scratch = aligned_alloc(64, sizeof(float) * (floors + dots) * parts);
  float *ut = uses_lanes(batch, rank) ? transpose_users(users, batch, rank) : NULL;
  if (!hs || !hr || !fill || !slices || !merged || !scratch || (uses_lanes(batch, rank) && !ut)) {
    free(hs); free(hr); free(fill); free(slices); free(merged); free(scratch); free(ut);
    return -1;
  }
  memset(fill, 0, sizeof(int) * fills * parts);
  for (int t = 0; t < parts; t++) {
    float *own = scratch + (floors + dots) * t;
    const heaps_t heaps = {hs + per_heap * t, hr + per_heap * t, fill + fills * t, own, k, ex_rows, ex_offsets};
    slices[t] = (slice_t){items, users, ut, rank, batch, num_items * t / parts, num_items * (t + 1) / parts, heaps, own + floors};
  }
  run_parallel(run_slice, slices, sizeof(slice_t), parts, threads);
  for (int b = 0; b < batch; b++) {
    int n = 0;
    for (int t = 0; t < parts; t++) {
      int f = fill[fills * t + b];
      for (int i = 0; i < f; i++) merged[n++] = (entry_t){hs[per_heap * t + (int64_t)b * k + i], hr[per_heap * t + (int64_t)b * k + i]};
    }
    select_best(merged, n, k);
    sort_best(merged, n < k ? n : k);
    for (int i = 0; i < k; i++) {
      out_rows[(int64_t)b * k + i] = i < n ? merged[i].r : -1;
      out_scores[(int64_t)b * k + i] = i < n ? merged[i].s : 0.f;
    }
  }
  free(hs); free(hr); free(fill); free(slices); free(merged); free(scratch); free(ut);
  return k;
}
