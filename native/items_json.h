// The JSON text of a top-N list's items, as JavaScript's JSON.stringify writes it: batch lines are written
// from it, without JSON.stringify's walk of the items and its numbers' strings on the event loop.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// More bytes than es_number writes (at most 24: -2.2250738585072014e-308).
#define ES_NUMBER_MAX 32

// Writes v as JavaScript's JSON.stringify does (Number::toString's shortest round-trip digits, laid out by
// its rules; NaN and the infinities as null, -0 as 0), without a terminating NUL; returns the bytes written.
size_t es_number(double v, char *out);

// More bytes than items_json writes an item: {"itemId":"-2147483648","score": (32), a number, } and a comma.
#define ITEM_JSON_MAX (32 + ES_NUMBER_MAX)

// Writes [{"itemId":"<ids[rows[0]]>","score":<scores[0]>},...], n items, as JSON.stringify writes a list of
// {itemId: String(id), score} objects; out must hold 2 + n * ITEM_JSON_MAX bytes. Returns the bytes written.
size_t items_json(const int32_t *rows, const float *scores, size_t n, const int32_t *ids, char *out);

#ifdef __cplusplus
}
#endif
