// Top-k for one user over int8 item codes, in two passes:
// 1. candidates: integer dot products of the user's uint8 codes with every item's int8 codes (stored
//    column-major, [rank, numItems]), minus the item's offset, times its scale; the best `candidates`
//    by that approximate score are kept. The scan keeps only each block's best score; the candidates-th
//    best of those is a threshold that at least `candidates` items reach, and only blocks whose best
//    reaches it are scored again and searched. Selection thus costs O(blocks), with no branch per item;
//    (a running top-k instead spent more time mispredicting its sift-downs than the scan took);
// 2. re-score: the candidates' exact float32 dot products (summed in double, as the JavaScript re-score
//    does), best k first, exact ties by row.
// Every instruction set computes the same integers, so every machine picks the same candidates.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <immintrin.h>
#include "select.h"
#include "topk.h"

#define BLOCK 64

typedef struct {
  const int8_t *codes;    // [rank, n]
  int64_t n;              // items: the distance between two dimensions' rows
  int rank;
  const uint8_t *user;    // rank uint8 codes
  const uint32_t *words;  // the user codes four to a word, zero-padded: (rank + 3) / 4 words
  const int32_t *offsets;
  const float *scales;
} scan_args;

static inline float approx(int32_t dot, int32_t offset, float scale) { return (float)(dot - offset) * scale; }

// Each instruction set scores whole blocks of BLOCK items: `scan` writes blocks [first, end)'s scores to
// scores[] (indexed by item) and each block's best to best[]; `reaching` is the mask of a block's items
// whose score is >= threshold.
typedef struct {
  void (*scan)(const scan_args *a, int64_t first, int64_t end, float *scores, float *best);
  uint64_t (*reaching)(const float *scores, float threshold);
} isa_t;

// Also scores the partial last block of every instruction set (count < BLOCK).
static float block_plain(const scan_args *a, int64_t b, int count, float *scores) {
  const int64_t first = b * BLOCK;
  float best = -INFINITY;
  for (int64_t i = first; i < first + count; i++) {
    int32_t dot = 0;
    for (int j = 0; j < a->rank; j++) dot += (int32_t)a->user[j] * a->codes[j * a->n + i];
    scores[i] = approx(dot, a->offsets[i], a->scales[i]);
    if (scores[i] > best) best = scores[i];
  }
  return best;
}

static void scan_plain(const scan_args *a, int64_t first, int64_t end, float *scores, float *best) {
  for (int64_t b = first; b < end; b++) best[b] = block_plain(a, b, BLOCK, scores);
}

static uint64_t reaching_plain(const float *scores, float threshold) {
  uint64_t mask = 0;
  for (int i = 0; i < BLOCK; i++) mask |= (uint64_t)(scores[i] >= threshold) << i;
  return mask;
}

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

// AVX-512 VNNI: vpdpbusd sums four uint8 x int8 products per 32-bit lane, so four dimensions' rows of 64
// codes are interleaved byte-wise (two unpack rounds) into 4 vectors of 16 items x 4 dimensions. The
// unpacks work within 128-bit lanes, which leaves items in the order 16L + 4q + (0..3) for vector q and
// lane L; a 4 x 4 transpose of 128-bit blocks restores item order before the offsets and scales.
// Prefetch distance along each dimension's row: a block reads one cache line from each of `rank` rows, more
// streams than the hardware prefetcher follows (measured at 1M x 64: 12.7 ms without, 2.7 ms at 1 KiB,
// best of 256 B - 2 KiB; no change on a matrix in cache).
#define AHEAD 1024

// Adds four dimensions' products (rows c, c + n, c + 2n, c + 3n; `left` of them real) to the accumulators.
VNNI static inline __attribute__((always_inline)) void add_group_vnni(const int8_t *c, int64_t n, int left, uint32_t word, __m512i acc[4]) {
  const __m512i zero = _mm512_setzero_si512();
  for (int r = 0; r < left; r++) _mm_prefetch((const char *)c + r * n + AHEAD, _MM_HINT_T0);
  __m512i r0 = _mm512_loadu_si512(c);
  __m512i r1 = left > 1 ? _mm512_loadu_si512(c + n) : zero;
  __m512i r2 = left > 2 ? _mm512_loadu_si512(c + 2 * n) : zero;
  __m512i r3 = left > 3 ? _mm512_loadu_si512(c + 3 * n) : zero;
  __m512i u = _mm512_set1_epi32((int32_t)word);
  __m512i lo01 = _mm512_unpacklo_epi8(r0, r1), hi01 = _mm512_unpackhi_epi8(r0, r1);
  __m512i lo23 = _mm512_unpacklo_epi8(r2, r3), hi23 = _mm512_unpackhi_epi8(r2, r3);
  acc[0] = _mm512_dpbusd_epi32(acc[0], u, _mm512_unpacklo_epi16(lo01, lo23));
  acc[1] = _mm512_dpbusd_epi32(acc[1], u, _mm512_unpackhi_epi16(lo01, lo23));
  acc[2] = _mm512_dpbusd_epi32(acc[2], u, _mm512_unpacklo_epi16(hi01, hi23));
  acc[3] = _mm512_dpbusd_epi32(acc[3], u, _mm512_unpackhi_epi16(hi01, hi23));
}

VNNI static void scan_vnni(const scan_args *a, int64_t first_block, int64_t end_block, float *scores, float *best) {
  const int full = a->rank / 4, left = a->rank % 4;
  const int64_t n = a->n;
  const int8_t *codes = a->codes;
  const uint32_t *words = a->words;
  for (int64_t b = first_block; b < end_block; b++) {
    const int64_t first = b * BLOCK;
    __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
    // Whole groups without a branch per row; the rank's remainder after them.
    for (int g = 0; g < full; g++) add_group_vnni(codes + (int64_t)(4 * g) * n + first, n, 4, words[g], acc);
    if (left) add_group_vnni(codes + (int64_t)(4 * full) * n + first, n, left, words[full], acc);
    __m512i acc0 = acc[0], acc1 = acc[1], acc2 = acc[2], acc3 = acc[3];
    __m512i t0 = _mm512_shuffle_i32x4(acc0, acc1, 0x44), t1 = _mm512_shuffle_i32x4(acc0, acc1, 0xEE);
    __m512i t2 = _mm512_shuffle_i32x4(acc2, acc3, 0x44), t3 = _mm512_shuffle_i32x4(acc2, acc3, 0xEE);
    __m512i dots[4] = {_mm512_shuffle_i32x4(t0, t2, 0x88), _mm512_shuffle_i32x4(t0, t2, 0xDD), _mm512_shuffle_i32x4(t1, t3, 0x88),
                       _mm512_shuffle_i32x4(t1, t3, 0xDD)};
    __m512 top = _mm512_set1_ps(-INFINITY);
    for (int q = 0; q < 4; q++) {
      __m512i d = _mm512_sub_epi32(dots[q], _mm512_loadu_si512(a->offsets + first + 16 * q));
      __m512 s = _mm512_mul_ps(_mm512_cvtepi32_ps(d), _mm512_loadu_ps(a->scales + first + 16 * q));
      _mm512_storeu_ps(scores + first + 16 * q, s);
      top = _mm512_max_ps(top, s);
    }
    best[b] = _mm512_reduce_max_ps(top);
  }
}

VNNI static uint64_t reaching_vnni(const float *scores, float threshold) {
  const __m512 t = _mm512_set1_ps(threshold);
  uint64_t mask = 0;
  for (int q = 0; q < 4; q++) mask |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(scores + 16 * q), t, _CMP_GE_OQ) << (16 * q);
  return mask;
}

// AVX2: 8 items per vector, codes widened to int32 and multiplied by the user code of each dimension.
__attribute__((target("avx2"))) static void scan_avx2(const scan_args *a, int64_t first_block, int64_t end_block, float *scores, float *best) {
  for (int64_t b = first_block; b < end_block; b++) {
    __m256 top = _mm256_set1_ps(-INFINITY);
    for (int64_t first = b * BLOCK; first < (b + 1) * BLOCK; first += 8) {
      __m256i acc = _mm256_setzero_si256();
      for (int j = 0; j < a->rank; j++) {
        __m256i c = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(a->codes + j * a->n + first)));
        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(c, _mm256_set1_epi32(a->user[j])));
      }
      __m256i d = _mm256_sub_epi32(acc, _mm256_loadu_si256((const __m256i *)(a->offsets + first)));
      __m256 s = _mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_loadu_ps(a->scales + first));
      _mm256_storeu_ps(scores + first, s);
      top = _mm256_max_ps(top, s);
    }
    float lanes[8], m = -INFINITY;
    _mm256_storeu_ps(lanes, top);
    for (int i = 0; i < 8; i++) m = lanes[i] > m ? lanes[i] : m;
    best[b] = m;
  }
}

__attribute__((target("avx2"))) static uint64_t reaching_avx2(const float *scores, float threshold) {
  const __m256 t = _mm256_set1_ps(threshold);
  uint64_t mask = 0;
  for (int q = 0; q < BLOCK / 8; q++) mask |= (uint64_t)(uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(scores + 8 * q), t, _CMP_GE_OQ)) << (8 * q);
  return mask;
}

static isa_t pick_isa(void) {
  __builtin_cpu_init();
  const char *name = getenv("RECSERVE_NATIVE_ISA");
  const isa_t plain = {scan_plain, reaching_plain}, avx2 = {scan_avx2, reaching_avx2}, vnni = {scan_vnni, reaching_vnni};
  if (name && strcmp(name, "plain") == 0) return plain;
  if (name && strcmp(name, "avx2") == 0) return avx2;
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return vnni;
  if (__builtin_cpu_supports("avx2")) return avx2;
  return plain;
}

static isa_t isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static void pick_isa_once(void) { isa = pick_isa(); }

typedef struct {
  const scan_args *a;
  int64_t first, end;  // blocks
  float *scores, *best;
} slice_t;

static void *scan_slice(void *arg) {
  slice_t *t = (slice_t *)arg;
  const int64_t full = t->a->n / BLOCK, end = t->end < full ? t->end : full;
  if (t->first < end) isa.scan(t->a, t->first, end, t->scores, t->best);
  if (t->end > full) t->best[full] = block_plain(t->a, full, (int)(t->a->n - full * BLOCK), t->scores);
  return NULL;
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

// Keeps the best k of e[0..n) (in row order), exact ties by row: the first of equal scores stay.
static int keep_best(entry_t *e, int n, int k, float *scratch) {
  if (n <= k) return n;
  for (int i = 0; i < n; i++) scratch[i] = e[i].s;
  float t = kth_largest(scratch, n, k);
  int above = 0;
  for (int i = 0; i < n; i++) above += e[i].s > t;
  int ties = k - above, m = 0;
  for (int i = 0; i < n; i++) {
    int take = e[i].s > t || (e[i].s == t && ties-- > 0);
    e[m] = e[i];
    m += take;
  }
  return m;
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

int topk_i8(const int8_t *codes, const int32_t *offsets, const float *scales, const float *items, int64_t num_items, int rank,
            const uint8_t *user_codes, const float *user, int k, int candidates, int threads, int32_t *out_rows, float *out_scores) {
  if (k > num_items) k = (int)num_items;
  if (candidates < k) candidates = k;
  if (candidates > num_items) candidates = (int)num_items;
  const int64_t blocks = (num_items + BLOCK - 1) / BLOCK;
  if (threads < 1) threads = 1;
  // A matrix this small is scanned in microseconds, less than starting a thread costs.
  if (num_items * rank < (1 << 22)) threads = 1;
  if (threads > blocks) threads = (int)blocks;
  pthread_once(&isa_once, pick_isa_once);

  uint32_t words[(rank + 3) / 4];
  memset(words, 0, sizeof(words));
  for (int j = 0; j < rank; j++) words[j / 4] |= (uint32_t)user_codes[j] << (8 * (j % 4));
  const scan_args all = {codes, num_items, rank, user_codes, words, offsets, scales};

  // Block-sized padding past the end: the last, partial block is read as a whole by `reaching`.
  float *scores = scores_for(blocks * BLOCK);
  float *best = malloc(sizeof(float) * blocks * 2);
  slice_t *slices = malloc(sizeof(slice_t) * threads);
  if (!scores || !best || !slices) { free(best); free(slices); return -1; }
  for (int64_t i = num_items; i < blocks * BLOCK; i++) scores[i] = -INFINITY;
  for (int t = 0; t < threads; t++) slices[t] = (slice_t){&all, blocks * t / threads, blocks * (t + 1) / threads, scores, best};
  run_parallel(scan_slice, slices, sizeof(slice_t), threads);
  free(slices);

  // At least `candidates` blocks hold an item as good as the threshold, so the best `candidates` items
  // all reach it; with fewer blocks than candidates, every item is one.
  float threshold = -INFINITY;
  int64_t hits = blocks;
  if (candidates <= blocks) {
    memcpy(best + blocks, best, sizeof(float) * blocks);
    threshold = kth_largest(best + blocks, blocks, candidates);
    hits = 0;
    for (int64_t b = 0; b < blocks; b++) hits += best[b] >= threshold;
  }
  entry_t *pool = malloc(sizeof(entry_t) * hits * BLOCK);
  float *scratch = malloc(sizeof(float) * hits * BLOCK);
  if (!pool || !scratch) { free(best); free(pool); free(scratch); return -1; }
  int n = 0;
  for (int64_t b = 0; b < blocks; b++) {
    if (best[b] < threshold) continue;
    for (uint64_t mask = isa.reaching(scores + b * BLOCK, threshold); mask; mask &= mask - 1) {
      int64_t i = b * BLOCK + __builtin_ctzll(mask);
      pool[n++] = (entry_t){scores[i], (int32_t)i};
    }
  }
  n = keep_best(pool, n, candidates, scratch);
  rescore(pool, n, items, rank, user);
  select_best(pool, n, k);
  sort_best(pool, k < n ? k : n);
  for (int i = 0; i < k; i++) {
    out_rows[i] = i < n ? pool[i].r : -1;
    out_scores[i] = i < n ? pool[i].s : 0.f;
  }
  free(best); free(pool); free(scratch);
  return k;
}
