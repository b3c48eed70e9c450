#include <stdlib.h>
#include <string.h>
#include "isa.h"

#if RECSERVE_X86
static isa_level forced_or(isa_level best) {
  const char *name = getenv("RECSERVE_NATIVE_ISA");
  if (name && (strcmp(name, "portable") == 0 || strcmp(name, "plain") == 0)) return ISA_PORTABLE;
  if (name && strcmp(name, "avx2") == 0 && best > ISA_AVX2) return ISA_AVX2;
  return best;
}
#endif

isa_level isa_for_float32(void) {
#if RECSERVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return forced_or(ISA_AVX512);
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return forced_or(ISA_AVX2);
#endif
  return ISA_PORTABLE;
}

isa_level isa_for_int8(void) {
#if RECSERVE_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) return forced_or(ISA_AVX512);
  if (__builtin_cpu_supports("avx2")) return forced_or(ISA_AVX2);
#endif
  return ISA_PORTABLE;
}

const char *isa_name(isa_level level) {
  return level == ISA_AVX512 ? "avx512" : level == ISA_AVX2 ? "avx2" : "portable";
}
