// Which vector instructions a scan uses. x86-64 picks AVX-512 (with VNNI for int8, and AMX's tile
// multiplies for int8 where the CPU and the kernel allow them) or AVX2 at run time; every machine, ARM64
// included, has the portable version: plain C loops written so that the compiler vectorises them (SSE2
// on x86-64, NEON on ARM64). RECSERVE_NATIVE_ISA=avx512|avx2|portable forces a lesser one, so the tests
// check every version on one machine.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#define RECSERVE_X86 1
#include <immintrin.h>
#else
#define RECSERVE_X86 0
#endif

// AMX's intrinsics need GCC 11 or clang 12 on; an older compiler builds the rest, and int8 then uses AVX-512.
#if RECSERVE_X86 && ((defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11))
#define RECSERVE_AMX 1
#else
#define RECSERVE_AMX 0
#endif

typedef enum { ISA_PORTABLE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_AMX = 3 } isa_level;

// The best level this CPU supports, lowered by RECSERVE_NATIVE_ISA; for int8, AVX-512 also needs VNNI and
// BW, and AMX (int8 only) also needs AVX-512 and the kernel's leave to use the tile registers.
isa_level isa_for_float32(void);
isa_level isa_for_int8(void);

// The name of a level, as /models and the benchmark print it.
const char *isa_name(isa_level level);
