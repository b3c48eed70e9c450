{
  "targets": [
    {
      "target_name": "recserve_kernel",
      "sources": ["native/addon.c", "native/isa.c", "native/pool.c", "native/topk.c", "native/int8.c", "native/select.c", "native/validate.c", "native/fold.c", "native/items_json.cc", "native/map_file.c"],
      "cflags": ["-O3", "-fopenmp-simd", "-ffp-contract=off"],
      "cflags_c": ["-std=c11"],
      "cflags_cc": ["-std=c++17"],
      "libraries": ["-lpthread"],
      "conditions": [
        ["OS=='mac'", {"xcode_settings": {"CLANG_CXX_LANGUAGE_STANDARD": "c++17", "MACOSX_DEPLOYMENT_TARGET": "13.3"}}]
      ]
    }
  ]
}
