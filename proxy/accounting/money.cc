#include "proxy/accounting/money.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace switchyard::accounting {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

std::int64_t NonNegative(std::int64_t v) { return v < 0 ? 0 : v; }

}  // namespace

std::int64_t PicoUsdPerToken(double usd_per_million_tokens) {
  if (!(usd_per_million_tokens > 0)) return 0;  // also NaN
  double pico = std::round(usd_per_million_tokens * 1e6);
  if (pico >= 9223372036854775808.0) return kMax;  // 2^63
  return static_cast<std::int64_t>(pico);
}

PriceTable PriceTable::FromConfig(const config::Prices& prices) {
  return {PicoUsdPerToken(prices.input), PicoUsdPerToken(prices.cached_input),
          PicoUsdPerToken(prices.output),
          PicoUsdPerToken(prices.reasoning < 0 ? prices.output : prices.reasoning)};
}

std::int64_t CostNanoUsd(const PriceTable& prices, const Usage& usage) {
  using U128 = unsigned __int128;
  const std::int64_t prompt = NonNegative(usage.prompt_tokens);
  const std::int64_t cached = std::min(NonNegative(usage.cached_tokens), prompt);
  const std::int64_t completion = NonNegative(usage.completion_tokens);
  const std::int64_t reasoning = std::min(NonNegative(usage.reasoning_tokens), completion);
  // Each product < 2^126, so the sum of four < 2^128.
  U128 pico = U128(static_cast<std::uint64_t>(prompt - cached)) *
                  static_cast<std::uint64_t>(NonNegative(prices.input_pico)) +
              U128(static_cast<std::uint64_t>(cached)) *
                  static_cast<std::uint64_t>(NonNegative(prices.cached_input_pico)) +
              U128(static_cast<std::uint64_t>(completion - reasoning)) *
                  static_cast<std::uint64_t>(NonNegative(prices.output_pico)) +
              U128(static_cast<std::uint64_t>(reasoning)) *
                  static_cast<std::uint64_t>(NonNegative(prices.reasoning_pico));
  U128 nano = pico / 1000 + (pico % 1000 >= 500 ? 1 : 0);  // half up
  return nano > U128(kMax) ? kMax : static_cast<std::int64_t>(nano);
}

std::string FormatUsd(std::int64_t nano_usd) {
  const bool negative = nano_usd < 0;
  // Magnitude in unsigned arithmetic so INT64_MIN works.
  const std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(nano_usd)
                                           : static_cast<std::uint64_t>(nano_usd);
  constexpr std::uint64_t kPerUsd = static_cast<std::uint64_t>(kNanoPerUsd);
  return fmt::format("{}{}.{:09}", negative ? "-" : "", magnitude / kPerUsd, magnitude % kPerUsd);
}

}  // namespace switchyard::accounting
