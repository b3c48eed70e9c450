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
// user rated: they must not appear, and the top k of the rest must. ex_rows has room for rows x batch,
// ex_offsets for batch + 1; returns the most rows one user excludes.
static int64_t exclusions(int64_t rows, int batch, int every, int32_t *ex_rows, int32_t *ex_offsets) {
  int64_t most = 0;
  ex_offsets[0] = 0;
  for (int b = 0; b < batch; b++) {
    int n = 0;
    for (int64_t i = 0; every && i < rows; i++)
      if ((i + b) % every == 0) ex_rows[ex_offsets[b] + n++] = (int32_t)i;
    ex_offsets[b + 1] = ex_offsets[b] + n;
    most = n > most ? n : most;
  }
  return most;
}

static void float32_case(int rank, int64_t rows, int batch, int k, int threads, int every) {
  float *items = malloc(sizeof(float) * rows * rank), *users = malloc(sizeof(float) * batch * rank);
  for (int64_t i = 0; i < rows * rank; i++) items[i] = small_int(7);
  for (int64_t i = 0; i < (int64_t)batch * rank; i++) users[i] = small_int(7);
  int32_t *ex_rows = malloc(sizeof(int32_t) * (every ? rows * batch : 1)), *ex_offsets = malloc(sizeof(int32_t) * (batch + 1));
  const int64_t most = exclusions(rows, batch, every, ex_rows, ex_offsets);
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

static float uniform(void) { return (float)(next() >> 8) / (float)(1 << 24) * 2 - 1; }

// The int8 scan must give the exact answer, the one the float32 scan gives, whatever the items:
//   ties: small integers (every dot product exact, many equal);
//   reals: random values, item norms spread over 2^-4 .. 2^4;
//   codes: a bundle's own codes and scales (items exactly codes x scales);
//   near: items 1e-4 apart around a few centres, users with one large value (coarse user codes).
enum { TIES, REALS, CODES, NEAR };

// With the exclusions of `every` (see exclusions).
static void int8_case_excluding(int rank, int64_t rows, int batch, int k, int threads, int kind, int every) {
  float *items = malloc(sizeof(float) * rows * rank), *users = malloc(sizeof(float) * batch * rank), *scales = malloc(sizeof(float) * rows);
  int8_t *codes = malloc(rows * rank);
  for (int64_t i = 0; i < rows; i++) {
    const float norm = ldexpf(1, (int)(next() % 9) - 4);
    // Some negative: a bundle's scale need only be finite (and a tile with one is never bounded from its
    // largest scale, see scan_lanes).
    scales[i] = (float)(1 + next() % 4) / 64 * (i % 7 == 3 ? -1 : 1);
    for (int j = 0; j < rank; j++) {
      float *y = &items[i * rank + j];
      if (kind == TIES) *y = small_int(rank < 4 ? 3 : 7);
      if (kind == REALS) *y = uniform() * norm;
      if (kind == CODES) {
        codes[j * rows + i] = (int8_t)((int)(next() % 255) - 127);
        *y = (float)codes[j * rows + i] * scales[i];
      }
      if (kind == NEAR) *y = (float)((i % 3) + j % 2) + uniform() * 1e-4f;
    }
  }
  for (int b = 0; b < batch; b++) {
    for (int j = 0; j < rank; j++) users[b * rank + j] = kind == TIES ? small_int(7) : uniform();
    if (kind == NEAR) users[b * rank + (b % rank)] = 50;
  }
  int64_t tile_bytes;
  const int64_t padded = i8_layout_sizes(rows, rank, &tile_bytes);
  int8_t *tiles = malloc(tile_bytes);
  int32_t *offsets = malloc(sizeof(int32_t) * padded);
  float *tile_scales = malloc(sizeof(float) * padded), *bounds = malloc(sizeof(float) * (2 * padded + 2));
  int32_t *places = malloc(sizeof(int32_t) * padded);
  check(i8_layout(items, rows, rank, kind == CODES ? codes : NULL, kind == CODES ? scales : NULL, threads, tiles, offsets, tile_scales, bounds, places) == 0, "int8 layout", rank, rows, k,
        threads);
  int32_t *ex_rows = malloc(sizeof(int32_t) * (every ? rows * batch : 1)), *ex_offsets = malloc(sizeof(int32_t) * (batch + 1));
  const int64_t most = exclusions(rows, batch, every, ex_rows, ex_offsets);
  int kk = k < rows - most ? k : (int)(rows - most);
  int32_t *got_rows = malloc(sizeof(int32_t) * batch * (kk > 0 ? kk : 1));
  float *got_scores = malloc(sizeof(float) * batch * (kk > 0 ? kk : 1));
  entry_t *e = malloc(sizeof(entry_t) * rows);
  if (kk > 0) {
    check(topk_i8(tiles, offsets, tile_scales, bounds, places, items, rows, rank, users, batch, kk, every ? ex_rows : NULL, every ? ex_offsets : NULL, threads, got_rows,
                  got_scores) == kk,
          "int8 status", rank, rows, k, threads);
    for (int b = 0; b < batch; b++) {
      int64_t n = 0;
      for (int64_t i = 0; i < rows; i++) {
        if (every && (i + b) % every == 0) continue;
        double s = 0;
        for (int j = 0; j < rank; j++) s += (double)users[b * rank + j] * (double)items[i * rank + j];
        e[n++] = (entry_t){(float)s, (int32_t)i};
      }
      reference_select(e, n);
      for (int i = 0; i < kk; i++) check(e[i].r == got_rows[b * kk + i] && e[i].s == got_scores[b * kk + i], every ? "int8 excluding" : "int8", rank, rows, k, threads);
    }
    mix(got_rows, sizeof(int32_t) * batch * kk);
    mix(got_scores, sizeof(float) * batch * kk);
  }
  free(items); free(users); free(scales); free(codes); free(tiles); free(offsets); free(tile_scales); free(bounds); free(places);
  free(ex_rows); free(ex_offsets); free(got_rows); free(got_scores); free(e);
}

static void int8_case(int rank, int64_t rows, int batch, int k, int threads, int kind) { int8_case_excluding(rank, rows, batch, k, threads, kind, 0); }

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
          for (int kind = TIES; kind <= NEAR; kind++) int8_case(ranks[r], rows[n], batch, k, 1 + k % 2, kind);
          // Exclusions (a fold-in's rated items) with ties, and with near-duplicates next to excluded ones.
          if (k == 11) int8_case_excluding(ranks[r], rows[n], batch, k, 1 + k % 2, n % 2 ? TIES : NEAR, 2 + (int)n % 3);
        }
  // Several groups of lanes scored together: three (24), three and one (32), three and two plus a tiled or
  // padded user (41). For int8: groups of 8 users (AVX-512) or 4 (AVX2) in one pass, with a partial one (41).
  const int group_batches[] = {24, 32, 41};
  for (size_t r = 0; r < sizeof ranks / sizeof *ranks; r++)
    for (size_t bi = 0; bi < sizeof group_batches / sizeof *group_batches; bi++) {
      float32_case(ranks[r], 257, group_batches[bi], 11, 1 + (int)bi % 2, 0);
      float32_case(ranks[r], 130, group_batches[bi], 21, 2, 5);
      int8_case(ranks[r], 257, group_batches[bi], 11, 1 + (int)bi % 2, REALS);
      int8_case_excluding(ranks[r], 130, group_batches[bi], 21, 2, REALS, 5);
    }
  // A block of 16 users across the lanes (AVX-512 without AMX), and one with a user scored apart, from codes
  // with negative scales too.
  int8_case(64, 70000, 17, 10, 2, REALS);
  int8_case_excluding(5, 1001, 16, 10, 2, CODES, 3);
  int8_case_excluding(64, 4099, 17, 10, 1, CODES, 2);
  // int8 batches past a pass of 64 users: two passes (70), three with a partial group (130).
  for (int kind = TIES; kind <= NEAR; kind++) int8_case(17, 257, 130, 11, 3, kind);
  float32_case(64, 32771, 40, 25, 2, 3);
  // Past the sizes from which the scans split rows over threads, with full-range codes.
  for (int threads = 1; threads <= 8; threads *= 2) {
    float32_case(64, 32771, 2, 25, threads, 0);  // 8.4 MB: the float32 scan splits matrices of 8 MB or more
    float32_case(64, 32771, 9, 25, threads, 0);
    float32_case(64, 32771, 9, 25, threads, 7);
    for (int kind = TIES; kind <= NEAR; kind++) int8_case(64, 70000, 9, 25, threads, kind);
    int8_case_excluding(64, 70000, 9, 25, threads, TIES, 7);
  }
  int8_case(64, 70000, 66, 10, 3, REALS);  // two passes, the answers of each split over the threads
  // Passes of 32 users or fewer over threads (AMX keeps their codes in tile registers), a partial group too.
  int8_case(64, 70000, 32, 10, 3, REALS);
  int8_case(48, 90001, 20, 10, 2, NEAR);
  // Rounds of passes over the same chunks (8 passes a round): three rounds with AMX (passes of 32), two
  // otherwise; with ties and near-duplicates a list outgrows its place in the call's block.
  for (int kind = TIES; kind <= NEAR; kind++) int8_case(17, 1001, 530, 25, 2, kind);
  int8_case_excluding(17, 1001, 530, 25, 2, TIES, 3);
  int8_case_excluding(64, 70000, 66, 10, 3, REALS, 11);
  printf("%s %s failures=%d digest=%016llx\n", isa_name(topk_f32_isa()), isa_name(topk_i8_isa()), failures, (unsigned long long)digest);
  return failures != 0;
}
