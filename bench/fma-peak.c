// The most fused multiply-adds a second this machine's cores run (AVX2: 8 floats per instruction; built
// with -DWIDE, AVX-512: 16): 12 independent chains per thread keep both FMA ports busy whatever their
// latency. What no float32 scan of that width can beat; `npm run bench` prints it beside the batch figures.
// Usage: fma-peak THREADS -> GFMA/s on stdout.
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef WIDE
typedef __m512 vec;
#define LANES 16
#define set1 _mm512_set1_ps
#define fmadd _mm512_fmadd_ps
#else
typedef __m256 vec;
#define LANES 8
#define set1 _mm256_set1_ps
#define fmadd _mm256_fmadd_ps
#endif

#define CHAINS 12
#define STEPS 50000000L

static void *run(void *out) {
  vec a[CHAINS];
  for (int i = 0; i < CHAINS; i++) a[i] = set1(0.001f * (float)i);
  const vec b = set1(0.9999f), c = set1(0.0001f);
  for (long s = 0; s < STEPS; s++)
    for (int i = 0; i < CHAINS; i++) a[i] = fmadd(a[i], b, c);
  float sum = 0;
  for (int i = 0; i < CHAINS; i++) sum += a[i][0];
  *(float *)out = sum;  // used, so the loop stays
  return NULL;
}

int main(int argc, char **argv) {
  const int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) return fprintf(stderr, "fma-peak: threads must be 1-256\n"), 1;
  pthread_t ids[256];
  float sink[256];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, run, &sink[t]);
  for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  printf("%.2f\n", (double)STEPS * CHAINS * LANES * threads / seconds / 1e9);
  return 0;
}
