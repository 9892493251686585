// Micro-benchmark of the cost computation (proxy/accounting/money.h): CostNanoUsd for a
// typical chat usage (cached and reasoning tokens included), the pair every request computes
// (its cost and the baseline model's), and FormatUsd for a ledger/metrics string.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "proxy/accounting/money.h"

namespace {

using namespace switchyard::accounting;

PriceTable Prices(double input, double cached, double output) {
  switchyard::config::Prices p;
  p.input = input;
  p.cached_input = cached;
  p.output = output;
  return PriceTable::FromConfig(p);
}

Usage TypicalUsage() {
  Usage u;
  u.prompt_tokens = 1'234;
  u.cached_tokens = 512;
  u.completion_tokens = 321;
  u.reasoning_tokens = 64;
  u.present = true;
  return u;
}

void BM_CostNanoUsd(benchmark::State& state) {
  const PriceTable prices = Prices(0.15, 0.075, 0.60);
  Usage usage = TypicalUsage();
  for (auto _ : state) {
    benchmark::DoNotOptimize(usage);  // not hoisted out of the loop
    benchmark::DoNotOptimize(CostNanoUsd(prices, usage));
  }
}
BENCHMARK(BM_CostNanoUsd);

// What accounting does per request: the cost on the model that served it and on the baseline.
void BM_CostAndBaseline(benchmark::State& state) {
  const PriceTable served = Prices(0.15, 0.075, 0.60);
  const PriceTable baseline = Prices(2.50, 1.25, 10.00);
  Usage usage = TypicalUsage();
  for (auto _ : state) {
    benchmark::DoNotOptimize(usage);
    const std::int64_t cost = CostNanoUsd(served, usage);
    const std::int64_t base = CostNanoUsd(baseline, usage);
    benchmark::DoNotOptimize(base - cost);
  }
}
BENCHMARK(BM_CostAndBaseline);

void BM_FormatUsd(benchmark::State& state) {
  std::int64_t nano = 123'456'789;
  for (auto _ : state) {
    benchmark::DoNotOptimize(nano);
    benchmark::DoNotOptimize(FormatUsd(nano));
  }
}
BENCHMARK(BM_FormatUsd);

}  // namespace

BENCHMARK_MAIN();
