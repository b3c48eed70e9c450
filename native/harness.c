// Checks both scans against plain C references on generated cases and prints a digest of every answer, so
// that builds for other instruction sets (RECSERVE_NATIVE_ISA) and other machines (ARM64 under qemu) can be
// compared with this one: `harness` prints "<isa float32> <isa int8> failures=<n> digest=<hex>".
// Built and run by test/native/harness.test.ts; not part of the addon.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "select.h"
#include "topk.h"

static uint32_t seed = 12345;
static uint32_t next(void) { return seed = seed * 1664525u + 1013904223u; }
// Small integers: every float32 dot product is exact in any order of additions, so ties are exact too.
static float small_int(int spread) { return (float)((int)(next() >> 8) % spread - spread / 2); }

static uint64_t digest = 1469598103934665603ull;
static void mix(const void *data, size_t n) {
  for (size_t i = 0; i < n; i++) digest = (digest ^ ((const uint8_t *)data)[i]) * 1099511628211ull;
}

static int failures;
static void check(int ok, const char *what, int rank, int64_t rows, int k, int threads) {
  if (ok) return;
  failures++;
  if (failures <= 20) printf("FAIL %s rank %d, %lld rows, k %d, %d threads\n", what, rank, (long long)rows, k, threads);
}

static int by_rank(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  return better(*x, *y) ? -1 : better(*y, *x);
}

// The best k of e[0..n) by the kernels' rule (higher score, then lower row), best first.
static void reference_select(entry_t *e, int64_t n) { qsort(e, (size_t)n, sizeof(entry_t), by_rank); }

// User b excludes the rows i with (i + b) % every == 0 (none when every is 0), as a fold-in excludes what the
// user rated: they must not appear, and the top k of the rest must.
static void float32_case(int rank, int64_t rows, int batch, int k, int threads, int every) {
  float *items = malloc(sizeof(float) * rows * rank), *users = malloc(sizeof(float) * batch * rank);
  for (int64_t i = 0; i < rows * rank; i++) items[i] = small_int(7);
  for (int64_t i = 0; i < (int64_t)batch * rank; i++) users[i] = small_int(7);
  int32_t *ex_rows = malloc(sizeof(int32_t) * (every ? rows * batch : 1)), *ex_offsets = malloc(sizeof(int32_t) * (batch + 1));
  int most = 0;
  ex_offsets[0] = 0;
  for (int b = 0; b < batch; b++) {
    int n = 0;
    for (int64_t i = 0; every && i < rows; i++)
      if ((i + b) % every == 0) ex_rows[ex_offsets[b] + n++] = (int32_t)i;
    ex_offsets[b + 1] = ex_offsets[b] + n;
    most = n > most ? n : most;
  }
  int kk = k < rows - most ? k : (int)(rows - most);
  if (kk < 1) {
    free(items); free(users); free(ex_rows); free(ex_offsets);
    return;
  }
  int32_t *got_rows = malloc(sizeof(int32_t) * batch * kk);
  float *got_scores = malloc(sizeof(float) * batch * kk);
  entry_t *e = malloc(sizeof(entry_t) * rows);
  check(topk_f32(items, rows, rank, users, batch, kk, every ? ex_rows : NULL, every ? ex_offsets : NULL, threads, got_rows, got_scores) == kk, "float32 status", rank,
        rows, k, threads);
  for (int b = 0; b < batch; b++) {
    int64_t n = 0;
    for (int64_t i = 0; i < rows; i++) {
      if (every && (i + b) % every == 0) continue;
      double s = 0;
      for (int j = 0; j < rank; j++) s += (double)users[b * rank + j] * items[i * rank + j];
      e[n++] = (entry_t){(float)s, (int32_t)i};
    }
    reference_select(e, n);
    for (int i = 0; i < kk; i++) check(e[i].r == got_rows[b * kk + i] && e[i].s == got_scores[b * kk + i], every ? "float32 excluding" : "float32", rank, rows, k, threads);
  }
  mix(got_rows, sizeof(int32_t) * batch * kk);
  mix(got_scores, sizeof(float) * batch * kk);
  free(items); free(users); free(ex_rows); free(ex_offsets); free(got_rows); free(got_scores); free(e);
}

// int8 codes in [-127, 127] with per-item scales, 7-bit user codes; items are the codes times the scales.
static void int8_case(int rank, int64_t rows, int batch, int k, int candidates, int threads, int spread) {
  int8_t *codes = malloc(rows * rank);
  int32_t *offsets = calloc(rows, sizeof(int32_t));
  float *scales = malloc(sizeof(float) * rows), *items = malloc(sizeof(float) * rows * rank), *users = malloc(sizeof(float) * batch * rank);
  uint8_t *user_codes = malloc(batch * rank);
  for (int64_t i = 0; i < rows; i++) scales[i] = (float)(1 + next() % 4) / 64;
  for (int j = 0; j < rank; j++)
    for (int64_t i = 0; i < rows; i++) {
      int c = spread ? (int)small_int(spread) : (int)(next() % 255) - 127;
      codes[j * rows + i] = (int8_t)c;
      offsets[i] += 64 * c;
      items[i * rank + j] = (float)c * scales[i];
    }
  for (int64_t i = 0; i < (int64_t)batch * rank; i++) {
    user_codes[i] = (uint8_t)(next() % 128);
    users[i] = (float)user_codes[i] - 64;
  }
  int kk = k < rows ? k : (int)rows;
  int cand = candidates < kk ? kk : candidates > rows ? (int)rows : candidates;
  int32_t *got_rows = malloc(sizeof(int32_t) * batch * kk);
  float *got_scores = malloc(sizeof(float) * batch * kk);
  entry_t *e = malloc(sizeof(entry_t) * rows);
  check(topk_i8(codes, offsets, scales, items, rows, rank, user_codes, users, batch, kk, candidates, threads, got_rows, got_scores) == kk, "int8 status", rank, rows, k,
        threads);
  for (int b = 0; b < batch; b++) {
    for (int64_t i = 0; i < rows; i++) {
      int32_t dot = 0;
      for (int j = 0; j < rank; j++) dot += (int32_t)user_codes[b * rank + j] * codes[j * rows + i];
      e[i] = (entry_t){(float)(dot - offsets[i]) * scales[i], (int32_t)i};
    }
    reference_select(e, rows);
    for (int i = 0; i < cand; i++) {
      double s = 0;
      for (int j = 0; j < rank; j++) s += (double)users[b * rank + j] * (double)items[(int64_t)e[i].r * rank + j];
      e[i].s = (float)s;
    }
    reference_select(e, cand);
    for (int i = 0; i < kk; i++) check(e[i].r == got_rows[b * kk + i] && e[i].s == got_scores[b * kk + i], "int8", rank, rows, k, threads);
  }
  mix(got_rows, sizeof(int32_t) * batch * kk);
  mix(got_scores, sizeof(float) * batch * kk);
  free(codes); free(offsets); free(scales); free(items); free(users); free(user_codes); free(got_rows); free(got_scores); free(e);
}

int main(void) {
  const int ranks[] = {1, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 100};
  const int64_t rows[] = {1, 5, 63, 64, 65, 130, 1001};
  // The float32 scan's ways with a batch: users in tiles only (1, 5), one group of lanes with padding (7), a
  // whole group plus tiled users (9), a whole group plus a padded one (15).
  const int batches[] = {1, 5, 7, 9, 15};
  for (size_t r = 0; r < sizeof ranks / sizeof *ranks; r++)
    for (size_t n = 0; n < sizeof rows / sizeof *rows; n++)
      for (size_t bi = 0; bi < sizeof batches / sizeof *batches; bi++)
        for (int k = 1; k <= 21; k += 10) {
          const int batch = batches[bi];
          float32_case(ranks[r], rows[n], batch, k, 1 + k % 3, 0);
          if (k == 11) float32_case(ranks[r], rows[n], batch, k, 1 + k % 3, 2 + (int)n % 3);
          for (int extra = 0; extra <= 200; extra += 100) int8_case(ranks[r], rows[n], batch, k, k + extra, 1 + k % 2, ranks[r] < 4 ? 3 : 7);
        }
  // Several groups of lanes scored together: three (24), three and one (32), three and two plus a tiled or
  // padded user (41).
  const int group_batches[] = {24, 32, 41};
  for (size_t r = 0; r < sizeof ranks / sizeof *ranks; r++)
    for (size_t bi = 0; bi < sizeof group_batches / sizeof *group_batches; bi++) {
      float32_case(ranks[r], 257, group_batches[bi], 11, 1 + (int)bi % 2, 0);
      float32_case(ranks[r], 130, group_batches[bi], 21, 2, 5);
    }
  float32_case(64, 32771, 40, 25, 2, 3);
  // Past the sizes from which the scans split rows over threads, with full-range codes.
  for (int threads = 1; threads <= 8; threads *= 2) {
    float32_case(64, 32771, 2, 25, threads, 0);  // 8.4 MB: the float32 scan splits matrices of 8 MB or more
    float32_case(64, 32771, 9, 25, threads, 0);
    float32_case(64, 32771, 9, 25, threads, 7);
    int8_case(64, 70000, 5, 25, 125, threads, 0);
  }
  printf("%s %s failures=%d digest=%016llx\n", isa_name(topk_f32_isa()), isa_name(topk_i8_isa()), failures, (unsigned long long)digest);
  return failures != 0;
}
