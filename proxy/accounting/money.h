// Money in integer nano-USD (1e-9 USD): prices converted once from the config, the cost of
// one request's usage, and formatting. Pure functions and plain values; thread-safe.
//
// Units: a price of P USD per 1M tokens is stored as round(P x 1e6) "micro-USD per 1M
// tokens", which is the same number as pico-USD (1e-12 USD) per token. 2.50 -> 2'500'000,
// 0.075 -> 75'000: every price with at most 6 decimals is exact; finer ones round half away
// from zero at 1e-12 USD/token.
// Rounding: a request's cost is summed exactly in pico-USD (128-bit) and divided by 1000 once,
// rounding half up, so each request is off by at most 0.5 nano-USD and summing per-request
// costs never drifts.
#pragma once

#include <cstdint>
#include <string>

#include "config/config.h"
#include "proxy/accounting/usage.h"

namespace switchyard::accounting {

// 1 USD in nano-USD.
inline constexpr std::int64_t kNanoPerUsd = 1'000'000'000;

// pico-USD per token (== micro-USD per 1M tokens). Negative, NaN or zero prices are 0;
// prices above ~9.2e12 USD per 1M tokens saturate.
std::int64_t PicoUsdPerToken(double usd_per_million_tokens);

struct PriceTable {
  std::int64_t input_pico = 0;         // per uncached prompt token
  std::int64_t cached_input_pico = 0;  // per cached prompt token
  std::int64_t output_pico = 0;        // per completion token that is not reasoning
  std::int64_t reasoning_pico = 0;     // per reasoning token (config: defaults to output)

  static PriceTable FromConfig(const config::Prices& prices);
  friend bool operator==(const PriceTable&, const PriceTable&) = default;
};

// (prompt - cached) x input + cached x cached_input + (completion - reasoning) x output +
// reasoning x reasoning price, in nano-USD. Reasoning tokens are a part of completion_tokens,
// never added on top. Negative counts are 0; cached is capped at prompt, reasoning at
// completion. The sum is taken in unsigned 128 bits, so no
// token count or price representable as int64 overflows it; only a result above INT64_MAX
// nano-USD (~9.22e9 USD for one request) saturates to INT64_MAX.
std::int64_t CostNanoUsd(const PriceTable& prices, const Usage& usage);

// Nano-USD as a decimal USD amount with all 9 decimals: 123450 -> "0.000123450",
// -1 -> "-0.000000001", 2'500'000'000 -> "2.500000000". Exact for every int64.
std::string FormatUsd(std::int64_t nano_usd);

}  // namespace switchyard::accounting
