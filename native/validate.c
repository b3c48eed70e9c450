// Whole-matrix checks run when a bundle loads, at memory speed: on a 1M x 64 model the JavaScript loops
// took about 280 ms (finite factors) and 100 ms (code sums) of a start-up that must stay under a second.
#include "topk.h"

// Chunks are checked without a branch per value, so the compiler vectorises them; only a chunk holding a
// non-finite value (all exponent bits set: an infinity or a NaN) is searched value by value.
int64_t first_non_finite(const float *values, int64_t n) {
  const uint32_t *bits = (const uint32_t *)values;
  const int64_t chunk = 4096;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t end = start + chunk < n ? start + chunk : n;
    uint32_t bad = 0;
    for (int64_t i = start; i < end; i++) bad |= (bits[i] & 0x7f800000u) == 0x7f800000u;
    if (bad)
      for (int64_t i = start; i < end; i++)
        if ((bits[i] & 0x7f800000u) == 0x7f800000u) return i;
  }
  return -1;
}

void code_sums(const int8_t *codes, int64_t n, int rank, int32_t *sums) {
  for (int64_t i = 0; i < n; i++) sums[i] = 0;
  for (int j = 0; j < rank; j++) {
    const int8_t *column = codes + (int64_t)j * n;
    for (int64_t i = 0; i < n; i++) sums[i] += column[i];
  }
}
