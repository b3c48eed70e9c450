#include <stdint.h>
// Returns k actually used (min(k, num_items)), or -1 when memory runs out. out_* hold batch x k entries, best first.
int topk_f32(const float *items, int64_t num_items, int rank, const float *users, int batch, int k, int threads, int32_t *out_rows, float *out_scores);
