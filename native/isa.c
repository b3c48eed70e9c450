#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "isa.h"
#if RECSERVE_X86
#include <cpuid.h>
#endif
#if RECSERVE_X86 && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if RECSERVE_X86
static isa_level forced_or(isa_level best) {
  const char *name = getenv("RECSERVE_NATIVE_ISA");
  if (name && (strcmp(name, "portable") == 0 || strcmp(name, "plain") == 0)) return ISA_PORTABLE;
  if (name && strcmp(name, "avx2") == 0 && best > ISA_AVX2) return ISA_AVX2;
  if (name && strcmp(name, "avx512") == 0 && best > ISA_AVX512) return ISA_AVX512;
  return best;
}

// AMX-TILE and AMX-INT8 (CPUID leaf 7, EDX bits 24 and 25), and Linux's leave for this process to use the
// tile data (asked once; refused by kernels before 5.16, or where a thread's signal stack is too small).
static int amx_int8_usable(void) {
  if (!RECSERVE_AMX) return 0;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 24)) || !(d & (1u << 25))) return 0;
#ifdef __linux__
  const long ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18;
  return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
#else
  return 0;
#endif
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
  if (__builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")) {
    const isa_level best = forced_or(ISA_AMX);
    // Asked for only where it would be used: the leave enlarges every thread's saved state.
    return best == ISA_AMX && !amx_int8_usable() ? ISA_AVX512 : best;
  }
  if (__builtin_cpu_supports("avx2")) return forced_or(ISA_AVX2);
#endif
  return ISA_PORTABLE;
}

const char *isa_name(isa_level level) {
  return level == ISA_AMX ? "amx" : level == ISA_AVX512 ? "avx512" : level == ISA_AVX2 ? "avx2" : "portable";
}
