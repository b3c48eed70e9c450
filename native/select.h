// Ranking helpers shared by the float32 scan and the int8 candidate pass.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef struct { float s; int32_t r; } entry_t;

// a ranks above b: higher score, or the same score and a lower row (rows ascend with item id).
static inline int better(entry_t a, entry_t b) { return a.s > b.s || (a.s == b.s && a.r < b.r); }

// Reorders e[0..n) so that e[0..k) are its best k, in no order, and e[k - 1] is the worst of them. O(n).
void select_best(entry_t *e, int n, int k);

// Sorts e[0..n) best first.
void sort_best(entry_t *e, int n);

// Runs fn(args + t * size) for t in [0, threads) and returns when all have: the calling thread takes t = 0,
// the process's scoring threads (pool.c, started once) the others.
void run_parallel(void *(*fn)(void *), void *args, size_t size, int threads);

// How many scoring threads the process has started so far.
int pool_threads(void);
