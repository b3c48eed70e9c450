#pragma once
#include <stdint.h>
#include "isa.h"
// Both return k actually used (min(k, num_items)), or -1 when memory runs out; out_* hold k entries per
// user, best first, exact ties by row ascending.

// Exact top-k of float32 dot products for batch users against a row-major [num_items, rank] matrix. With
// ex_rows, user b never gets rows ex_rows[ex_offsets[b] .. ex_offsets[b + 1]) (sorted ascending); a user
// left with fewer than k rows gets row -1 (score 0) in the places past them.
int topk_f32(const float *items, int64_t num_items, int rank, const float *users, int batch, int k, const int32_t *ex_rows, const int32_t *ex_offsets, int threads,
             int32_t *out_rows, float *out_scores);

// The int8 scan's copy of a model (see int8.c): 16-item tiles of codes, per item offsets (-64 x the code sum)
// and scales, bounds = [err, qnorm] for each place in the layout (padded pairs, side by side so that one read
// brings both), then [max err, max qnorm], and
// rows (padded) the model's row at each place (the items by descending norm; -1 past them). With `codes` (column-major
// [rank, n]) and `scales_in`, a bundle's own codes; without, each row quantised to [-127, 127] on max|y| / 127.
// i8_layout_sizes returns `padded` (the items rounded up to whole tiles) and sets the tiles' byte count;
// i8_layout splits the rows over `threads` and returns 0, or -1 when memory runs out.
int64_t i8_layout_sizes(int64_t n, int rank, int64_t *tile_bytes);
int i8_layout(const float *items, int64_t n, int rank, const int8_t *codes, const float *scales_in, int threads, int8_t *tiles, int32_t *offsets, float *scales,
              float *bounds, int32_t *rows);

// Exact top-k for batch users (float32 vectors, each quantised here to 7-bit codes) through the int8 layout:
// the same answer as scoring every item exactly (float products summed in double, ties by row), never one of a
// user's excluded rows (ex_rows and ex_offsets as for topk_f32, or NULL; each user leaving k rows or more). -2 when a kept place's row is not
// one of the model's (a layout that is not i8_layout's).
int topk_i8(const int8_t *tiles, const int32_t *offsets, const float *scales, const float *bounds, const int32_t *rows, const float *items, int64_t num_items,
            int rank, const float *users, int batch, int k, const int32_t *ex_rows, const int32_t *ex_offsets, int threads, int32_t *out_rows, float *out_scores);

// The instruction sets the two scans use in this process (chosen on first call, then fixed).
isa_level topk_f32_isa(void);
isa_level topk_i8_isa(void);

// Index of the first infinity or NaN in values[0..n), or -1.
int64_t first_non_finite(const float *values, int64_t n);

// sums[i] = the sum of item i's codes, from column-major [rank, n] int8 codes.
void code_sums(const int8_t *codes, int64_t n, int rank, int32_t *sums);

// out[p m + q] = the dot product of item rows rows[p] and rows[q] of a row-major [*, rank] matrix, in double
// (a symmetric m x m matrix).
void row_dots(const float *items, int rank, const int32_t *rows, int m, double *out);

// x = Yᵀ z with (Y Yᵀ + lambda I) z = ratings, for the m item rows Y of an explicit fold-in with fewer ratings
// than the rank: 1, or 0 when that m x m system is not positive definite, -1 without memory (fold.c).
int few_ratings(const float *items, int rank, const int32_t *rows, const double *ratings, int m, double lambda, double *x);

// The normal equations of a fold-in: adds weights[p] y yᵀ to the upper triangle of the k x k matrix a and
// targets[p] y to b, for each of the m item rows y, then lambda to a's diagonal, and mirrors the upper
// triangle into the lower (fold.c).
void normal_equations(const float *items, int rank, const int32_t *rows, const double *weights, const double *targets, int m, double lambda, double *a, double *b);

// x with A x = b by Cholesky (A = L Lᵀ, row-major k x k): 1, or 0 when A is not positive definite, -1
// without memory. A and b are left as they were (fold.c).
int cholesky_solve(const double *a, const double *b, int k, double *x);

// The x >= 0 minimising ½ xᵀ A x − bᵀ x (Lawson and Hanson's active set, as least-squares.ts's nnlsSolve):
// 1, or 0 when a sub-system is not positive definite, -1 without memory (fold.c).
int nnls_solve(const double *a, const double *b, int k, double *x);
