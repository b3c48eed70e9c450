// Top-k for a batch of users over int8 item codes, in two passes:
// 1. candidates: integer dot products of each user's uint8 codes with every item's int8 codes (stored
//    column-major, [rank, numItems]), minus the item's offset, times its scale; the best `candidates`
//    by that approximate score are kept. The scan keeps each block's best score; the candidates-th best
//    of those is a threshold that at least `candidates` items reach, so only blocks whose best reaches it
//    are searched. Selection thus costs O(blocks), with no branch per item (a running top-k spent more
//    time mispredicting its sift-downs than the scan took). Up to CHUNK users share one pass over the codes.
// 2. re-score: the candidates' exact float32 dot products (summed in double, as the JavaScript re-score
//    does), best k first, exact ties by row.
// User codes have 7 bits (0-127): a pair of products then fits int16 (2 x 127 x 127 = 32,258), so AVX2's
// vpmaddubsw cannot saturate, and every instruction set computes the same integers: every machine picks
// the same candidates.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "isa.h"
#include "select.h"
#include "topk.h"

#define BLOCK 64
// Users per pass: 4 users x 4 accumulators fill half the AVX-512 registers, leaving room for the codes.
#define CHUNK 4

typedef struct {
  const int8_t *codes;    // [rank, n]
  int64_t n;              // items: the distance between two dimensions' rows
  int rank, users;        // users in this pass, <= CHUNK
  const uint8_t *user;    // users x rank uint8 codes
  const uint32_t *words;  // per user, its codes four to a word, zero-padded: (rank + 3) / 4 words
  const int32_t *offsets;
  const float *scales;
  int64_t stride;         // between two users' scores: blocks x BLOCK
} scan_args;

static inline float approx(int32_t dot, int32_t offset, float scale) { return (float)(dot - offset) * scale; }

// Each instruction set scores whole blocks of BLOCK items: `scan` writes blocks [first, end)'s scores
// (scores[u * stride + item]) and each block's best (best[u * blocks + block]) for every user of the pass;
// `reaching` is the mask of a block's items whose score is >= threshold.
typedef struct {
  void (*scan)(const scan_args *a, int64_t first, int64_t end, int64_t blocks, float *scores, float *best);
  uint64_t (*reaching)(const float *scores, float threshold);
} isa_t;

// User u's scores of block b's first `count` items; returns their best. Also the partial last block of
// every instruction set.
static float block_plain(const scan_args *a, int u, int64_t b, int count, float *scores) {
  const uint8_t *user = a->user + (int64_t)u * a->rank;
  float best = -INFINITY;
  for (int64_t i = b * BLOCK; i < b * BLOCK + count; i++) {
    int32_t dot = 0;
    for (int j = 0; j < a->rank; j++) dot += (int32_t)user[j] * a->codes[j * a->n + i];
    scores[i] = approx(dot, a->offsets[i], a->scales[i]);
    if (scores[i] > best) best = scores[i];
  }
  return best;
}

// Prefetch distance along each dimension's row: a block reads one cache line from each of `rank` rows, more
// streams than the hardware prefetcher follows (measured at 1M x 64: 12.7 ms without, 2.7 ms at 1 KiB,
// best of 256 B - 2 KiB; no change on a matrix in cache).
#define AHEAD 1024

static inline void prefetch_rows(const int8_t *c, int64_t n, int rows) {
  for (int r = 0; r < rows; r++) __builtin_prefetch(c + r * n + AHEAD, 0, 3);
}

// Portable: dimension by dimension over a block, products in int16 (127 x 127 fits) summed in int32; the
// compiler vectorises the inner loops (SSE2 on x86-64, NEON on ARM64).
static void scan_portable(const scan_args *a, int64_t first_block, int64_t end_block, int64_t blocks, float *scores, float *best) {
  for (int64_t b = first_block; b < end_block; b++) {
    const int64_t first = b * BLOCK;
    prefetch_rows(a->codes + first, a->n, a->rank);
    for (int u = 0; u < a->users; u++) {
      const uint8_t *user = a->user + (int64_t)u * a->rank;
      int32_t acc[BLOCK] = {0};
      for (int j = 0; j < a->rank; j++) {
        const int8_t *c = a->codes + j * a->n + first;
        const int16_t w = user[j];
        for (int i = 0; i < BLOCK; i++) acc[i] += (int16_t)(w * c[i]);
      }
      float *mine = scores + u * a->stride + first, top = -INFINITY;
      for (int i = 0; i < BLOCK; i++) {
        mine[i] = approx(acc[i], a->offsets[first + i], a->scales[first + i]);
        top = mine[i] > top ? mine[i] : top;
      }
      best[u * blocks + b] = top;
    }
  }
}

static uint64_t reaching_portable(const float *scores, float threshold) {
  uint64_t mask = 0;
  for (int i = 0; i < BLOCK; i++) mask |= (uint64_t)(scores[i] >= threshold) << i;
  return mask;
}

#if RECSERVE_X86
#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
#define AVX2 __attribute__((target("avx2")))
#define INLINE static inline __attribute__((always_inline))

// AVX-512 VNNI: vpdpbusd sums four uint8 x int8 products per 32-bit lane, so four dimensions' rows of 64
// codes are interleaved byte-wise (two unpack rounds) into 4 vectors of 16 items x 4 dimensions, which
// every user of the pass then multiplies with its own four codes. The unpacks work within 128-bit lanes,
// which leaves items in the order 16L + 4q + (0..3) for vector q and lane L; a 4 x 4 transpose of
// 128-bit blocks restores item order before the offsets and scales.
VNNI INLINE void interleave_vnni(const int8_t *c, int64_t n, int left, __m512i x[4]) {
  const __m512i zero = _mm512_setzero_si512();
  prefetch_rows(c, n, left);
  __m512i r0 = _mm512_loadu_si512(c);
  __m512i r1 = left > 1 ? _mm512_loadu_si512(c + n) : zero;
  __m512i r2 = left > 2 ? _mm512_loadu_si512(c + 2 * n) : zero;
  __m512i r3 = left > 3 ? _mm512_loadu_si512(c + 3 * n) : zero;
  __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
  __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
  x[0] = _mm512_unpacklo_epi16(lo01, lo23);
  x[1] = _mm512_unpackhi_epi16(lo01, lo23);
  x[2] = _mm512_unpacklo_epi16(hi01, hi23);
  x[3] = _mm512_unpackhi_epi16(hi01, hi23);
}

// Scores of `users` (a constant after inlining, so the accumulators stay in registers) for blocks [first, end).
VNNI INLINE void scan_vnni_n(const scan_args *a, int64_t first_block, int64_t end_block, int64_t blocks, float *scores, float *best, const int users) {
  const int full = a->rank / 4, left = a->rank % 4, groups = (a->rank + 3) / 4;
  const int64_t n = a->n;
  for (int64_t b = first_block; b < end_block; b++) {
    const int64_t first = b * BLOCK;
    __m512i acc[CHUNK][4], x[4];
    for (int u = 0; u < users; u++)
      for (int q = 0; q < 4; q++) acc[u][q] = _mm512_setzero_si512();
    // Whole groups of four dimensions without a branch per row; the rank's remainder after them.
    for (int g = 0; g < groups; g++) {
      interleave_vnni(a->codes + (int64_t)(4 * g) * n + first, n, g < full ? 4 : left, x);
      for (int u = 0; u < users; u++) {
        const __m512i w = _mm512_set1_epi32((int32_t)a->words[u * groups + g]);
        for (int q = 0; q < 4; q++) acc[u][q] = _mm512_dpbusd_epi32(acc[u][q], w, x[q]);
      }
    }
    const __m512i offsets[4] = {_mm512_loadu_si512(a->offsets + first), _mm512_loadu_si512(a->offsets + first + 16),
                                _mm512_loadu_si512(a->offsets + first + 32), _mm512_loadu_si512(a->offsets + first + 48)};
    const __m512 scales[4] = {_mm512_loadu_ps(a->scales + first), _mm512_loadu_ps(a->scales + first + 16), _mm512_loadu_ps(a->scales + first + 32),
                              _mm512_loadu_ps(a->scales + first + 48)};
    for (int u = 0; u < users; u++) {
      __m512i t0 = _mm512_shuffle_i32x4(acc[u][0], acc[u][1], 0x44), t1 = _mm512_shuffle_i32x4(acc[u][0], acc[u][1], 0xEE);
      __m512i t2 = _mm512_shuffle_i32x4(acc[u][2], acc[u][3], 0x44), t3 = _mm512_shuffle_i32x4(acc[u][2], acc[u][3], 0xEE);
      __m512i dots[4] = {_mm512_shuffle_i32x4(t0, t2, 0x88), _mm512_shuffle_i32x4(t0, t2, 0xDD), _mm512_shuffle_i32x4(t1, t3, 0x88),
                         _mm512_shuffle_i32x4(t1, t3, 0xDD)};
      __m512 top = _mm512_set1_ps(-INFINITY);
      for (int q = 0; q < 4; q++) {
        __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(dots[q], offsets[q])), scales[q]);
        _mm512_storeu_ps(scores + u * a->stride + first + 16 * q, s);
        top = _mm512_max_ps(top, s);
      }
      best[u * blocks + b] = _mm512_reduce_max_ps(top);
    }
  }
}

VNNI static void scan_vnni(const scan_args *a, int64_t first, int64_t end, int64_t blocks, float *scores, float *best) {
  switch (a->users) {
    case 1: scan_vnni_n(a, first, end, blocks, scores, best, 1); break;
    case 2: scan_vnni_n(a, first, end, blocks, scores, best, 2); break;
    case 3: scan_vnni_n(a, first, end, blocks, scores, best, 3); break;
    default: scan_vnni_n(a, first, end, blocks, scores, best, 4); break;
  }
}

VNNI static uint64_t reaching_vnni(const float *scores, float threshold) {
  const __m512 t = _mm512_set1_ps(threshold);
  uint64_t mask = 0;
  for (int q = 0; q < 4; q++) mask |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(scores + 16 * q), t, _CMP_GE_OQ) << (16 * q);
  return mask;
}

// AVX2 without VNNI: the same byte interleave on 32 items, then vpmaddubsw (two uint8 x int8 products summed
// in int16: exact for 7-bit user codes) and vpmaddwd by ones (the two pairs summed in int32) stand in for
// vpdpbusd. Vector q's lane L holds items 16L + 4q + (0..3); two 128-bit permutes restore item order.
AVX2 INLINE void interleave_avx2(const int8_t *c, int64_t n, int left, __m256i x[4]) {
  const __m256i zero = _mm256_setzero_si256();
  __m256i r0 = _mm256_loadu_si256((const __m256i *)c);
  __m256i r1 = left > 1 ? _mm256_loadu_si256((const __m256i *)(c + n)) : zero;
  __m256i r2 = left > 2 ? _mm256_loadu_si256((const __m256i *)(c + 2 * n)) : zero;
  __m256i r3 = left > 3 ? _mm256_loadu_si256((const __m256i *)(c + 3 * n)) : zero;
  __m256i lo01 = _mm256_unpacklo_epi8(r0, r1), hi01 = _mm256_unpackhi_epi8(r0, r1);
  __m256i lo23 = _mm256_unpacklo_epi8(r2, r3), hi23 = _mm256_unpackhi_epi8(r2, r3);
  x[0] = _mm256_unpacklo_epi16(lo01, lo23);
  x[1] = _mm256_unpackhi_epi16(lo01, lo23);
  x[2] = _mm256_unpacklo_epi16(hi01, hi23);
  x[3] = _mm256_unpackhi_epi16(hi01, hi23);
}

// `users` (1 or 2, a constant after inlining: 8 accumulators fit the 16 registers with the codes) from
// user u0, for the 32 items from `first`; returns nothing but raises top[] to each user's best.
AVX2 INLINE void half_block_avx2(const scan_args *a, int64_t first, int u0, const int users, float *scores, __m256 top[2]) {
  const int full = a->rank / 4, left = a->rank % 4, groups = (a->rank + 3) / 4;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[2][4], x[4];
  for (int u = 0; u < users; u++)
    for (int q = 0; q < 4; q++) acc[u][q] = _mm256_setzero_si256();
  for (int g = 0; g < groups; g++) {
    interleave_avx2(a->codes + (int64_t)(4 * g) * a->n + first, a->n, g < full ? 4 : left, x);
    for (int u = 0; u < users; u++) {
      const __m256i w = _mm256_set1_epi32((int32_t)a->words[(u0 + u) * groups + g]);
      for (int q = 0; q < 4; q++) acc[u][q] = _mm256_add_epi32(acc[u][q], _mm256_madd_epi16(_mm256_maddubs_epi16(w, x[q]), ones));
    }
  }
  for (int u = 0; u < users; u++) {
    const __m256i dots[4] = {_mm256_permute2x128_si256(acc[u][0], acc[u][1], 0x20), _mm256_permute2x128_si256(acc[u][2], acc[u][3], 0x20),
                             _mm256_permute2x128_si256(acc[u][0], acc[u][1], 0x31), _mm256_permute2x128_si256(acc[u][2], acc[u][3], 0x31)};
    for (int q = 0; q < 4; q++) {
      const int64_t at = first + 8 * q;
      __m256i d = _mm256_sub_epi32(dots[q], _mm256_loadu_si256((const __m256i *)(a->offsets + at)));
      __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_loadu_ps(a->scales + at));
      _mm256_storeu_ps(scores + (u0 + u) * a->stride + at, s);
      top[u] = _mm256_max_ps(top[u], s);
    }
  }
}

AVX2 static float hmax256(__m256 v) {
  float lanes[8], m = -INFINITY;
  _mm256_storeu_ps(lanes, v);
  for (int i = 0; i < 8; i++) m = lanes[i] > m ? lanes[i] : m;
  return m;
}

// Users two at a time within each block, whose codes stay in L1 between the two.
AVX2 static void scan_avx2(const scan_args *a, int64_t first_block, int64_t end_block, int64_t blocks, float *scores, float *best) {
  for (int64_t b = first_block; b < end_block; b++) {
    prefetch_rows(a->codes + b * BLOCK, a->n, a->rank);
    for (int u0 = 0; u0 < a->users; u0 += 2) {
      __m256 top[2] = {_mm256_set1_ps(-INFINITY), _mm256_set1_ps(-INFINITY)};
      for (int half = 0; half < 2; half++) {
        if (a->users - u0 >= 2) half_block_avx2(a, b * BLOCK + 32 * half, u0, 2, scores, top);
        else half_block_avx2(a, b * BLOCK + 32 * half, u0, 1, scores, top);
      }
      for (int u = u0; u < a->users && u < u0 + 2; u++) best[u * blocks + b] = hmax256(top[u - u0]);
    }
  }
}

AVX2 static uint64_t reaching_avx2(const float *scores, float threshold) {
  const __m256 t = _mm256_set1_ps(threshold);
  uint64_t mask = 0;
  for (int q = 0; q < BLOCK / 8; q++) mask |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(scores + 8 * q), t, _CMP_GE_OQ)) << (8 * q);
  return mask;
}
#endif

static isa_level level;
static isa_t isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;

static void pick_isa(void) {
  level = isa_for_int8();
  isa = (isa_t){scan_portable, reaching_portable};
#if RECSERVE_X86
  if (level == ISA_AVX512) isa = (isa_t){scan_vnni, reaching_vnni};
  if (level == ISA_AVX2) isa = (isa_t){scan_avx2, reaching_avx2};
#endif
}

isa_level topk_i8_isa(void) {
  pthread_once(&isa_once, pick_isa);
  return level;
}

typedef struct {
  const scan_args *a;
  int64_t first, end, blocks;  // this slice's blocks, of all blocks
  float *scores, *best;
} slice_t;

static void *scan_slice(void *arg) {
  slice_t *t = (slice_t *)arg;
  const int64_t full = t->a->n / BLOCK, end = t->end < full ? t->end : full;
  if (t->first < end) isa.scan(t->a, t->first, end, t->blocks, t->scores, t->best);
  if (t->end > full)
    for (int u = 0; u < t->a->users; u++)
      t->best[u * t->blocks + full] = block_plain(t->a, u, full, (int)(t->a->n - full * BLOCK), t->scores + u * t->a->stride);
  return NULL;
}

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

// Exact float32 scores, as the JavaScript re-score computes them: float products summed in double.
static void rescore(entry_t *e, int n, const float *items, int rank, const float *user) {
  for (int i = 0; i < n; i++) __builtin_prefetch(items + (int64_t)e[i].r * rank);
  for (int i = 0; i < n; i++) {
    const float *x = items + (int64_t)e[i].r * rank;
    double sum = 0;
    for (int j = 0; j < rank; j++) sum += (double)user[j] * (double)x[j];
    e[i].s = (float)sum;
  }
}

// One user's answer from its scores and block bests: candidates, re-score, best k. -1 when memory runs out.
static int answer(const float *scores, float *best, int64_t blocks, const float *items, int rank, const float *user, int k, int candidates, int32_t *out_rows,
                  float *out_scores) {
  // At least `candidates` blocks hold an item as good as the threshold, so the best `candidates` items
  // all reach it; with fewer blocks than candidates, every item is one.
  float threshold = -INFINITY;
  int64_t hits = blocks;
  if (candidates <= blocks) {
    float *sorted = malloc(sizeof(float) * blocks);
    if (!sorted) return -1;
    memcpy(sorted, best, sizeof(float) * blocks);
    threshold = kth_largest(sorted, blocks, candidates);
    free(sorted);
    hits = 0;
    for (int64_t b = 0; b < blocks; b++) hits += best[b] >= threshold;
  }
  entry_t *pool = malloc(sizeof(entry_t) * hits * BLOCK);
  if (!pool) return -1;
  int n = 0;
  for (int64_t b = 0; b < blocks; b++) {
    if (best[b] < threshold) continue;
    for (uint64_t mask = isa.reaching(scores + b * BLOCK, threshold); mask; mask &= mask - 1) {
      int64_t i = b * BLOCK + __builtin_ctzll(mask);
      pool[n++] = (entry_t){scores[i], (int32_t)i};
    }
  }
  // The best candidates by approximate score, ties by row, then the best k of their exact scores.
  select_best(pool, n, candidates);
  if (n > candidates) n = candidates;
  rescore(pool, n, items, rank, user);
  select_best(pool, n, k);
  sort_best(pool, k < n ? k : n);
  for (int i = 0; i < k; i++) {
    out_rows[i] = i < n ? pool[i].r : -1;
    out_scores[i] = i < n ? pool[i].s : 0.f;
  }
  free(pool);
  return 0;
}

// Per calling thread, kept between calls: allocating megabytes per request would fault its pages in anew.
static __thread float *item_scores;
static __thread int64_t item_scores_len;

static float *scores_for(int64_t n) {
  if (n > item_scores_len) {
    free(item_scores);
    item_scores = malloc(sizeof(float) * n);
    item_scores_len = item_scores ? n : 0;
  }
  return item_scores;
}

int topk_i8(const int8_t *codes, const int32_t *offsets, const float *scales, const float *items, int64_t num_items, int rank, const uint8_t *user_codes,
            const float *users, int batch, int k, int candidates, int threads, int32_t *out_rows, float *out_scores) {
  if (k > num_items) k = (int)num_items;
  if (candidates < k) candidates = k;
  if (candidates > num_items) candidates = (int)num_items;
  const int64_t blocks = (num_items + BLOCK - 1) / BLOCK, stride = blocks * BLOCK;
  const int groups = (rank + 3) / 4;
  if (threads < 1) threads = 1;
  // A matrix this small is scanned in microseconds, less than starting a thread costs.
  if (num_items * rank < (1 << 22)) threads = 1;
  int parts = slices_for(threads);
  if (parts > blocks) parts = (int)blocks;
  topk_i8_isa();

  float *scores = scores_for(stride * CHUNK);
  float *best = malloc(sizeof(float) * blocks * CHUNK);
  uint32_t *words = calloc((size_t)groups * CHUNK, sizeof(uint32_t));
  slice_t *slices = malloc(sizeof(slice_t) * parts);
  if (!scores || !best || !words || !slices) { free(best); free(words); free(slices); return -1; }
  // The last block's padding reads as no candidate.
  for (int u = 0; u < CHUNK; u++)
    for (int64_t i = num_items; i < stride; i++) scores[u * stride + i] = -INFINITY;
  int status = k;
  for (int first = 0; first < batch && status >= 0; first += CHUNK) {
    const int count = batch - first < CHUNK ? batch - first : CHUNK;
    memset(words, 0, sizeof(uint32_t) * groups * CHUNK);
    for (int u = 0; u < count; u++)
      for (int j = 0; j < rank; j++) words[u * groups + j / 4] |= (uint32_t)user_codes[(int64_t)(first + u) * rank + j] << (8 * (j % 4));
    const scan_args all = {codes, num_items, rank, count, user_codes + (int64_t)first * rank, words, offsets, scales, stride};
    for (int t = 0; t < parts; t++) slices[t] = (slice_t){&all, blocks * t / parts, blocks * (t + 1) / parts, blocks, scores, best};
    run_parallel(scan_slice, slices, sizeof(slice_t), parts, threads);
    for (int u = 0; u < count && status >= 0; u++) {
      const int64_t at = (int64_t)(first + u) * k;
      if (answer(scores + u * stride, best + u * blocks, blocks, items, rank, users + (int64_t)(first + u) * rank, k, candidates, out_rows + at, out_scores + at) < 0)
        status = -1;
    }
  }
  free(best); free(words); free(slices);
  return status;
}
