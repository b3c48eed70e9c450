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

// Runs fn(args + i * size) for every slice i in [0, slices) and returns when all have: the calling thread
// and up to threads - 1 of the process's scoring threads (pool.c, started once) each take the next slice
// left. With more slices than threads, a scoring thread that the OS runs late (on the caller's core, say)
// only takes fewer slices: the scan is never slower than the caller alone.
void run_parallel(void *(*fn)(void *), void *args, size_t size, int slices, int threads);

// Queues fn(arg) to run on a thread of its own in the idle scheduling class, and returns at once: a
// background scan uses the CPU that the live ones leave, and reports back itself. 0 when no thread can be
// started for it (nothing is queued then).
int run_in_background(void *(*fn)(void *), void *arg);

// Slices for a scan over `threads` threads: a few per thread, so that the work balances (see run_parallel).
static inline int slices_for(int threads) { return threads > 1 ? 4 * threads : 1; }

// How many scoring threads the process has started so far.
int pool_threads(void);
