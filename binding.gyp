{
  "targets": [
    {
      "target_name": "recserve_kernel",
      "sources": ["native/addon.c", "native/isa.c", "native/pool.c", "native/topk.c", "native/int8.c", "native/select.c", "native/validate.c", "native/fold.c"],
      "cflags": ["-O3", "-fopenmp-simd", "-std=c11", "-ffp-contract=off"],
      "libraries": ["-lpthread"]
    }
  ]
}
