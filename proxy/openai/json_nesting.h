// Bounds how deeply a JSON text nests arrays and objects without parsing it: one pass over the
// bytes, 64 at a time with AVX-512BW or AVX2 (chosen once at run time) and memchr over long
// strings, or a byte loop elsewhere. simdjson on-demand does not apply its depth limit to the
// values it skips, so this is the request body's depth limit. Thread-safe; NestingWithin
// allocates nothing.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace switchyard::openai {

// Whether no array or object in `json` lies more than `max_depth` levels deep: `{}` is 1 deep,
// `{"a":[1]}` 2. Brackets inside strings do not count, and a backslash escapes the byte after it
// (a `\"` neither ends nor starts a string). Any text gets an answer, JSON or not: a closing
// bracket with nothing open is ignored, an unterminated string runs to the end. Reads no byte
// outside `json`.
bool NestingWithin(std::string_view json, std::size_t max_depth);

// Every version this CPU can run, NestingWithin's first and the portable byte loop (for other
// CPUs and architectures) last: all give the same answers, which tests check.
struct NestingScanner {
  std::string_view name;  // "avx512", "avx2", "portable"
  bool (*within)(const char* data, std::size_t size, std::size_t max_depth);
};
std::vector<NestingScanner> NestingScanners();

}  // namespace switchyard::openai
