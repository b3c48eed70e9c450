// The dot products fold-in needs (scorers/fold-in.ts): a request's few item rows against each other, in
// double, as the TypeScript loop computes them. In JavaScript they took about 20 us of the event loop for
// 20 rows at rank 64 (bounds checks, and a cache miss per line of rows no scan has touched lately).
#include "topk.h"

// Four partial sums, combined as (s0 + s1) + (s2 + s3), the tail into s0: one chain of adds would wait on each
// add, and this order gives the same bits as the TypeScript loop.
static double dot_rows(const float *a, const float *b, int rank) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= rank; i += 4) {
    s0 += (double)a[i] * b[i];
    s1 += (double)a[i + 1] * b[i + 1];
    s2 += (double)a[i + 2] * b[i + 2];
    s3 += (double)a[i + 3] * b[i + 3];
  }
  for (; i < rank; i++) s0 += (double)a[i] * b[i];
  return s0 + s1 + (s2 + s3);
}

void row_dots(const float *items, int rank, const int32_t *rows, int m, double *out) {
  // Every row's lines requested up front, so their misses overlap instead of queueing one after another.
  for (int p = 0; p < m; p++)
    for (int i = 0; i < rank; i += 16) __builtin_prefetch(items + (int64_t)rows[p] * rank + i, 0, 3);
  for (int p = 0; p < m; p++) {
    const float *a = items + (int64_t)rows[p] * rank;
    for (int q = p; q < m; q++) {
      const float *b = items + (int64_t)rows[q] * rank;
      out[p * m + q] = out[q * m + p] = dot_rows(a, b, rank);
    }
  }
}
