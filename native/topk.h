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

// Top-k for batch users from int8 codes (column-major [rank, num_items]): for each, the best `candidates` by
// the integer dot product with its 7-bit codes (0-127; offsets are 64 x each item's code sum), re-scored
// exactly against the float32 items.
int topk_i8(const int8_t *codes, const int32_t *offsets, const float *scales, const float *items, int64_t num_items, int rank, const uint8_t *user_codes,
            const float *users, int batch, int k, int candidates, int threads, int32_t *out_rows, float *out_scores);

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
