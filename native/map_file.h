#ifndef RECSERVE_MAP_FILE_H
#define RECSERVE_MAP_FILE_H
#include <node_api.h>

// mapFile(path) -> Buffer (see map_file.c).
napi_value map_file_js(napi_env env, napi_callback_info info);

// The finalizer of a buffer over a mapping of its own: unmaps `data`, whose length in bytes is the hint.
void unmap_finalizer(napi_env env, void *data, void *bytes);

#endif
