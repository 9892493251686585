#include "proxy/openai/json_nesting.h"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SWITCHYARD_NESTING_X86 1
#include <immintrin.h>
#endif

namespace switchyard::openai {

namespace {

enum ByteClass : std::uint8_t { kOther, kQuote, kBackslash, kOpen, kClose };

constexpr std::array<std::uint8_t, 256> kClasses = [] {
  std::array<std::uint8_t, 256> classes{};
  classes['"'] = kQuote;
  classes['\\'] = kBackslash;
  classes['['] = classes['{'] = kOpen;
  classes[']'] = classes['}'] = kClose;
  return classes;
}();

bool Portable(const char* p, std::size_t n, std::size_t max_depth) {
  std::size_t depth = 0;
  for (std::size_t i = 0; i < n;) {
    switch (kClasses[static_cast<unsigned char>(p[i])]) {
      case kOther:
        ++i;
        break;
      case kBackslash:  // outside strings only in broken JSON; the same rule as inside
        i += 2;
        break;
      case kOpen:
        if (++depth > max_depth) return false;
        ++i;
        break;
      case kClose:
        if (depth > 0) --depth;
        ++i;
        break;
      case kQuote: {  // the string ends at the first quote after an even run of backslashes
        const char* const start = p + i + 1;
        const char* from = start;
        for (;;) {
          const void* quote = std::memchr(from, '"', static_cast<std::size_t>(p + n - from));
          if (quote == nullptr) return true;  // the string never ends: nothing after it counts
          const char* end = static_cast<const char*>(quote);
          const char* run = end;
          while (run > start && run[-1] == '\\') --run;
          from = end + 1;
          if ((end - run) % 2 == 0) break;
        }
        i = static_cast<std::size_t>(from - p);
        break;
      }
    }
  }
  return true;
}

}  // namespace

#ifdef SWITCHYARD_NESTING_X86

namespace {

// The quote, backslash, opening and closing bracket bits of 64 bytes.
struct Masks {
  std::uint64_t quote, backslash, open, close;
};

}  // namespace

// The kernel twice, each compiled for its instruction set (simdjson's target regions). `[` and
// `{` differ from each other only in bit 0x20, as do `]` and `}`: one compare each after an OR.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,popcnt,pclmul"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,popcnt,pclmul")
#endif
namespace avx2 {
namespace {
inline std::uint64_t Bits(__m256i eq, int half) {
  return static_cast<std::uint64_t>(static_cast<std::uint32_t>(_mm256_movemask_epi8(eq)))
         << (32 * half);
}
inline Masks Classify(const char* p) {
  Masks m{};
  for (int half = 0; half < 2; ++half) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * half));
    const __m256i folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    m.quote |= Bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')), half);
    m.backslash |= Bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\')), half);
    m.open |= Bits(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8('{')), half);
    m.close |= Bits(_mm256_cmpeq_epi8(folded, _mm256_set1_epi8('}')), half);
  }
  return m;
}
inline bool AnyQuote(const char* p) {
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i eq = _mm256_or_si256(
      _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), quote),
      _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), quote));
  return _mm256_testz_si256(eq, eq) == 0;
}
#include "proxy/openai/json_nesting_kernel.inc"
}  // namespace
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx2,popcnt,pclmul"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx2,popcnt,pclmul")
#endif
namespace avx512 {
namespace {
inline Masks Classify(const char* p) {
  const __m512i v = _mm512_loadu_si512(p);
  const __m512i folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
  return {_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')),
          _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')),
          _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8('{')),
          _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8('}'))};
}
inline bool AnyQuote(const char* p) {
  return _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p), _mm512_set1_epi8('"')) != 0;
}
#include "proxy/openai/json_nesting_kernel.inc"
}  // namespace
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // SWITCHYARD_NESTING_X86

std::vector<NestingScanner> NestingScanners() {
  std::vector<NestingScanner> scanners;
#ifdef SWITCHYARD_NESTING_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("pclmul") && __builtin_cpu_supports("popcnt")) {
    if (__builtin_cpu_supports("avx512bw")) scanners.push_back({"avx512", avx512::Run});
    if (__builtin_cpu_supports("avx2")) scanners.push_back({"avx2", avx2::Run});
  }
#endif
  scanners.push_back({"portable", Portable});
  return scanners;
}

bool NestingWithin(std::string_view json, std::size_t max_depth) {
  static const auto within = NestingScanners().front().within;
  return within(json.data(), json.size(), max_depth);
}

}  // namespace switchyard::openai
