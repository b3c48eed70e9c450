// See items_json.h. The digits come from std::to_chars, the C++ library's shortest round-trip conversion
// (Ryu in libstdc++): the same digits ECMAScript's Number::toString asks for (the fewest that read back as
// the same double, the closest of those to it, ties to even), which this file lays out by that
// algorithm's rules.
#include "items_json.h"

#include <charconv>
#include <cmath>
#include <cstring>

// Number::toString(10) for a finite x > 0 given its shortest digits s (k of them) and n, where
// x = 0.s x 10^n (ECMA-262, Number::toString, steps 6-12).
static size_t lay_out(const char *s, int k, int n, char *out) {
  char *p = out;
  if (k <= n && n <= 21) {
    std::memcpy(p, s, k), p += k;
    for (int i = k; i < n; i++) *p++ = '0';
  } else if (0 < n && n <= 21) {
    std::memcpy(p, s, n), p += n;
    *p++ = '.';
    std::memcpy(p, s + n, k - n), p += k - n;
  } else if (-6 < n && n <= 0) {
    *p++ = '0', *p++ = '.';
    for (int i = 0; i < -n; i++) *p++ = '0';
    std::memcpy(p, s, k), p += k;
  } else {
    *p++ = s[0];
    if (k > 1) *p++ = '.', std::memcpy(p, s + 1, k - 1), p += k - 1;
    const int e = n - 1;
    *p++ = 'e', *p++ = e < 0 ? '-' : '+';
    p = std::to_chars(p, p + 4, e < 0 ? -e : e).ptr;
  }
  return (size_t)(p - out);
}

size_t es_number(double v, char *out) {
  if (!std::isfinite(v)) return std::memcpy(out, "null", 4), 4;
  if (v == 0) return *out = '0', 1;
  size_t sign = 0;
  if (v < 0) *out = '-', sign = 1, v = -v;
  // Scientific form: d[.ddd]e[+-]x, the shortest digits that round-trip.
  char sci[ES_NUMBER_MAX];
  const char *end = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific).ptr;
  char digits[20];
  int k = 0;
  const char *p = sci;
  for (; *p != 'e'; p++)
    if (*p != '.') digits[k++] = *p;
  int exponent = 0;
  std::from_chars(p[1] == '+' ? p + 2 : p + 1, end, exponent);
  return sign + lay_out(digits, k, exponent + 1, out + sign);
}

size_t items_json(const int32_t *rows, const float *scores, size_t n, const int32_t *ids, char *out) {
  static const char head[] = "{\"itemId\":\"", middle[] = "\",\"score\":";
  char *p = out;
  *p++ = '[';
  for (size_t i = 0; i < n; i++) {
    if (i > 0) *p++ = ',';
    std::memcpy(p, head, sizeof head - 1), p += sizeof head - 1;
    p = std::to_chars(p, p + 11, ids[rows[i]]).ptr;
    std::memcpy(p, middle, sizeof middle - 1), p += sizeof middle - 1;
    p += es_number(scores[i], p);
    *p++ = '}';
  }
  *p++ = ']';
  return (size_t)(p - out);
}
