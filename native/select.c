#include <stdlib.h>
#include "select.h"

static inline void swap(entry_t *e, int i, int j) { entry_t t = e[i]; e[i] = e[j]; e[j] = t; }

// Quickselect with a median-of-three pivot: candidate lists are a few hundred entries, so this beats a heap
// (whose sift-downs mispredict a branch per level) and a full sort.
void select_best(entry_t *e, int n, int k) {
  int lo = 0, hi = n - 1;
  if (k <= 0 || k >= n) return;
  while (hi > lo) {
    int mid = lo + (hi - lo) / 2;
    if (better(e[mid], e[lo])) swap(e, mid, lo);
    if (better(e[hi], e[lo])) swap(e, hi, lo);
    if (better(e[hi], e[mid])) swap(e, hi, mid);
    entry_t pivot = e[mid];
    int i = lo, j = hi;
    while (i <= j) {
      while (better(e[i], pivot)) i++;
      while (better(pivot, e[j])) j--;
      if (i <= j) swap(e, i++, j--);
    }
    // e[lo..j] rank at or above the pivot, e[i..hi] at or below; entries are distinct (rows differ).
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else break;
  }
}

static int by_rank(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  return better(*x, *y) ? -1 : better(*y, *x);
}

void sort_best(entry_t *e, int n) { qsort(e, n, sizeof(entry_t), by_rank); }
