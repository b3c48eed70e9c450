// Fold-in's arithmetic (scorers/fold-in.ts, scorers/least-squares.ts), in double, in the same order as the
// TypeScript, so that a factor has the same bits with the addon or without it:
// - a request's few item rows against each other: in JavaScript about 20 us of the event loop for 20 rows at
//   rank 64 (bounds checks, and a cache miss per line of rows no scan has touched lately);
// - the k x k normal equations of implicit feedback and of nonnegative models, and their Cholesky solve:
//   in JavaScript 260-400 us (implicit) and 1.1-2.1 ms (nonnegative, a solve per active set) at rank 64.
#include <stdlib.h>
#include <math.h>
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

// Explicit feedback with fewer ratings than the rank (fold-in.ts's explicitFewRatings): z with
// (Y Yᵀ + lambda I) z = ratings, then x = Yᵀ z, each x[i] adding its products in row order.
int few_ratings(const float *items, int rank, const int32_t *rows, const double *ratings, int m, double lambda, double *x) {
  double *g = malloc(sizeof(double) * (size_t)m * m), *z = malloc(sizeof(double) * (size_t)m);
  int solved = g && z ? 0 : -1;
  if (solved == 0) {
    row_dots(items, rank, rows, m, g);
    for (int p = 0; p < m; p++) g[p * m + p] += lambda;
    solved = cholesky_solve(g, ratings, m, z);
  }
  if (solved == 1) {
    for (int i = 0; i < rank; i++) x[i] = 0;
    for (int p = 0; p < m; p++) {
      const float *y = items + (int64_t)rows[p] * rank;
      for (int i = 0; i < rank; i++) x[i] += z[p] * (double)y[i];
    }
  }
  free(g), free(z);
  return solved;
}

void normal_equations(const float *items, int rank, const int32_t *rows, const double *weights, const double *targets, int m, double lambda, double *a, double *b) {
  for (int p = 0; p < m; p++) {
    const float *y = items + (int64_t)rows[p] * rank;
    for (int i = 0; i < rank; i++) {
      const double wy = weights[p] * (double)y[i];
      double *ai = a + (int64_t)i * rank;
      // The upper triangle, each entry adding its products in interaction order (vectors of entries: no
      // sum is reordered).
      for (int j = i; j < rank; j++) ai[j] += wy * (double)y[j];
      b[i] += targets[p] * (double)y[i];
    }
  }
  for (int i = 0; i < rank; i++) {
    a[i * rank + i] += lambda;
    for (int j = 0; j < i; j++) a[i * rank + j] = a[j * rank + i];
  }
}

// Σ u[p] v[p] over p < n: four partial sums combined as (s0 + s1) + (s2 + s3), the tail into s0 (least-squares.ts's dot4).
static inline __attribute__((always_inline)) double dot4(const double *u, const double *v, int n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int p = 0;
  for (; p + 4 <= n; p += 4) {
    s0 += u[p] * v[p];
    s1 += u[p + 1] * v[p + 1];
    s2 += u[p + 2] * v[p + 2];
    s3 += u[p + 3] * v[p + 3];
  }
  for (; p < n; p++) s0 += u[p] * v[p];
  return s0 + s1 + (s2 + s3);
}

int cholesky_solve(const double *a, const double *b, int k, double *x) {
  double *l = malloc(sizeof(double) * (size_t)k * k);
  if (!l) return -1;
  for (int j = 0; j < k; j++) {
    const double diagonal = a[j * k + j] - dot4(l + j * k, l + j * k, j);
    if (!(diagonal > 0)) return free(l), 0;
    const double pivot = sqrt(diagonal);
    l[j * k + j] = pivot;
    for (int i = j + 1; i < k; i++) l[i * k + j] = (a[i * k + j] - dot4(l + i * k, l + j * k, j)) / pivot;
  }
  // L y = b, then Lᵀ x = y.
  for (int i = 0; i < k; i++) {
    double v = b[i];
    for (int p = 0; p < i; p++) v -= l[i * k + p] * x[p];
    x[i] = v / l[i * k + i];
  }
  for (int i = k - 1; i >= 0; i--) {
    double v = x[i];
    for (int p = i + 1; p < k; p++) v -= l[p * k + i] * x[p];
    x[i] = v / l[i * k + i];
  }
  free(l);
  return 1;
}

// Math.min's NaN and signed zero, so that a step has the same bits as least-squares.ts's.
static double js_min(double a, double b) {
  if (isnan(a) || isnan(b)) return NAN;
  return b < a || (b == 0 && a == 0 && signbit(b)) ? b : a;
}

int nnls_solve(const double *a, const double *b, int k, double *x) {
  char *passive = calloc((size_t)k, 1);
  int *keep = malloc(sizeof(int) * (size_t)k);
  double *w = malloc(sizeof(double) * (size_t)k), *sub = malloc(sizeof(double) * (size_t)k * k), *rhs = malloc(sizeof(double) * (size_t)k),
         *z = malloc(sizeof(double) * (size_t)k);
  int status = passive && keep && w && sub && rhs && z ? -3 : -1;  // -3: still solving
  // Math.max(1, ...|b|), NaN included.
  double scale = 1;
  for (int i = 0; i < k; i++) scale = isnan(scale) || isnan(b[i]) ? NAN : fabs(b[i]) > scale ? fabs(b[i]) : scale;
  const double tolerance = 1e-12 * scale;
  for (int i = 0; i < k; i++) x[i] = 0;
  for (int outer = 0; outer < 3 * k && status == -3; outer++) {
    // The negative gradient b - A x: positive where raising x_j lowers the objective.
    for (int i = 0; i < k; i++) {
      double sum = b[i];
      for (int j = 0; j < k; j++)
        if (x[j] != 0) sum -= a[i * k + j] * x[j];
      w[i] = sum;
    }
    int entering = -1;
    for (int j = 0; j < k; j++)
      if (!passive[j] && w[j] > tolerance && (entering < 0 || w[j] > w[entering])) entering = j;
    if (entering < 0) {
      status = 1;
      break;
    }
    passive[entering] = 1;
    for (;;) {
      int m = 0;
      for (int j = 0; j < k; j++)
        if (passive[j]) keep[m++] = j;
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++) sub[i * m + j] = a[keep[i] * k + keep[j]];
        rhs[i] = b[keep[i]];
      }
      const int solved = cholesky_solve(sub, rhs, m, z);
      if (solved <= 0) {
        status = solved;
        break;
      }
      int positive = 1;
      for (int n = 0; n < m; n++) positive &= z[n] > 0;
      if (positive) {
        for (int n = 0; n < m; n++) x[keep[n]] = z[n];
        break;
      }
      // Step from x towards z as far as feasibility allows; the variables that reach zero leave.
      double step = 1;
      for (int n = 0; n < m; n++)
        if (z[n] <= 0) step = js_min(step, x[keep[n]] / (x[keep[n]] - z[n]));
      for (int n = 0; n < m; n++) {
        const int i = keep[n];
        x[i] = x[i] + step * (z[n] - x[i]);
        if (x[i] <= tolerance * 1e-3) {
          x[i] = 0;
          passive[i] = 0;
        }
      }
    }
  }
  if (status == -3) status = 1;
  free(passive), free(keep), free(w), free(sub), free(rhs), free(z);
  return status;
}
