#include "proxy/accounting/money.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace switchyard::accounting {
namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

Usage U(std::int64_t prompt, std::int64_t cached, std::int64_t completion,
        std::int64_t reasoning = 0) {
  return {prompt, cached, completion, reasoning, true};
}

class MoneyPriceTableTest : public ::testing::Test {};

TEST_F(MoneyPriceTableTest, RealPricePointsConvertExactlyToPicoUsdPerToken) {
  EXPECT_EQ(PriceTable::FromConfig({2.50, 1.25, 10.00}),
            (PriceTable{2'500'000, 1'250'000, 10'000'000, 10'000'000}));
  EXPECT_EQ(PriceTable::FromConfig({0.15, 0.075, 0.60}), (PriceTable{150'000, 75'000, 600'000, 600'000}));
  EXPECT_EQ(PriceTable::FromConfig({0, 0, 0}), (PriceTable{0, 0, 0}));
  EXPECT_EQ(PicoUsdPerToken(0.000001), 1);  // the finest representable price
  EXPECT_EQ(PicoUsdPerToken(3.0e-3), 3'000);
  EXPECT_EQ(PicoUsdPerToken(0.1 + 0.2), 300'000);  // float noise in the config is rounded away
}

TEST_F(MoneyPriceTableTest, NegativeNanAndHugePricesAreClamped) {
  EXPECT_EQ(PicoUsdPerToken(-1.0), 0);
  EXPECT_EQ(PicoUsdPerToken(std::nan("")), 0);
  EXPECT_EQ(PicoUsdPerToken(1e-8), 0);  // below 1e-12 USD per token
  EXPECT_EQ(PicoUsdPerToken(1e20), kInt64Max);
  EXPECT_EQ(PicoUsdPerToken(std::numeric_limits<double>::infinity()), kInt64Max);
}

class MoneyCostTest : public ::testing::Test {
 protected:
  const PriceTable gpt4o_ = PriceTable::FromConfig({2.50, 1.25, 10.00});
  const PriceTable gpt4o_mini_ = PriceTable::FromConfig({0.15, 0.075, 0.60});
  const PriceTable free_ = PriceTable::FromConfig({0, 0, 0});
};

TEST_F(MoneyCostTest, Gpt4oCostIsExact) {
  // 176 x 2.50/1M + 1024 x 1.25/1M + 300 x 10/1M = 0.00044 + 0.00128 + 0.003 USD
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(1200, 1024, 300)), 4'720'000);
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(1, 0, 0)), 2'500);
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(0, 0, 1)), 10'000);
}

TEST_F(MoneyCostTest, Gpt4oMiniCostIsExact) {
  // 667 x 0.15 + 333 x 0.075 + 77 x 0.60 = 100.05 + 24.975 + 46.2 = 171.225 USD per 1M
  EXPECT_EQ(CostNanoUsd(gpt4o_mini_, U(1000, 333, 77)), 171'225);
  EXPECT_EQ(CostNanoUsd(gpt4o_mini_, U(1, 1, 0)), 75);  // one cached token: 0.075 USD / 1M
}

TEST_F(MoneyCostTest, ReasoningTokensArePartOfCompletionAtTheirOwnPrice) {
  // o1-style: input 15, output 60, reasoning 60 per 1M; 100 completion tokens of which 80 are
  // reasoning cost the same as 100 output tokens when the prices match...
  const PriceTable same = PriceTable::FromConfig({15, 7.5, 60, 60});
  EXPECT_EQ(CostNanoUsd(same, U(0, 0, 100, 80)), CostNanoUsd(same, U(0, 0, 100)));
  // ...and 20 x 60 + 80 x 90 = 8400 USD per 1M when reasoning is dearer.
  const PriceTable dearer = PriceTable::FromConfig({15, 7.5, 60, 90});
  EXPECT_EQ(CostNanoUsd(dearer, U(0, 0, 100, 80)), 8'400'000);
  // More reasoning than completion (a misreport) is capped at completion.
  EXPECT_EQ(CostNanoUsd(dearer, U(0, 0, 10, 50)), 900'000);
}

TEST_F(MoneyCostTest, ZeroPricesCostNothing) {
  EXPECT_EQ(CostNanoUsd(free_, U(1'000'000, 500'000, 1'000'000)), 0);
}

TEST_F(MoneyCostTest, CachedTokensArePricedAtTheCachedRateNotTheInputRate) {
  const std::int64_t all_uncached = CostNanoUsd(gpt4o_, U(10'000, 0, 0));
  const std::int64_t all_cached = CostNanoUsd(gpt4o_, U(10'000, 10'000, 0));
  EXPECT_EQ(all_uncached, 25'000'000);
  EXPECT_EQ(all_cached, 12'500'000);
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(10'000, 4'000, 0)), 6'000 * 2'500 + 4'000 * 1'250);
}

TEST_F(MoneyCostTest, CachedTokensBeyondThePromptAreCappedAtThePrompt) {
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(1'000, 5'000, 0)), CostNanoUsd(gpt4o_, U(1'000, 1'000, 0)));
}

TEST_F(MoneyCostTest, ReasoningTokensAreNotCountedTwice) {
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(100, 0, 300, 250)), CostNanoUsd(gpt4o_, U(100, 0, 300, 0)));
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(0, 0, 300, 250)), 3'000'000);
}

TEST_F(MoneyCostTest, NegativeCountsCountZero) {
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(-5, -1, -7, -2)), 0);
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(10, -3, 0)), 25'000);
}

TEST_F(MoneyCostTest, SubNanoCostsRoundHalfUpOncePerRequest) {
  const PriceTable tiny{500, 499, 1};             // pico-USD per token
  EXPECT_EQ(CostNanoUsd(tiny, U(1, 0, 0)), 1);    // 0.5 nano -> 1
  EXPECT_EQ(CostNanoUsd(tiny, U(1, 1, 0)), 0);    // 0.499 -> 0
  EXPECT_EQ(CostNanoUsd(tiny, U(3, 0, 0)), 2);    // 1.5 -> 2
  EXPECT_EQ(CostNanoUsd(tiny, U(0, 0, 499)), 0);  // 0.499 -> 0
  EXPECT_EQ(CostNanoUsd(tiny, U(1, 0, 1)), 1);    // 0.501, one division on the sum
  EXPECT_EQ(CostNanoUsd(tiny, U(2, 1, 2)), 1);    // 0.5 + 0.499 + 0.002 = 1.001 -> 1
}

TEST_F(MoneyCostTest, SummingAMillionRequestsHasNoDrift) {
  // Per-request integer costs summed, against the totals priced once.
  std::int64_t sum = 0;
  __int128 uncached = 0, cached = 0, completion = 0;
  for (std::int64_t i = 0; i < 1'000'000; ++i) {
    const Usage u = U(7 + i % 1000, i % 5, 1 + i % 37);
    sum += CostNanoUsd(gpt4o_mini_, u);
    uncached += u.prompt_tokens - u.cached_tokens;
    cached += u.cached_tokens;
    completion += u.completion_tokens;
  }
  // Every gpt-4o-mini price is a multiple of 1000 pico, so no request rounds at all.
  const __int128 expected_pico = uncached * 150'000 + cached * 75'000 + completion * 600'000;
  ASSERT_EQ(expected_pico % 1000, 0);
  EXPECT_EQ(sum, static_cast<std::int64_t>(expected_pico / 1000));

  std::int64_t fixed = 0;
  for (int i = 0; i < 1'000'000; ++i) fixed += CostNanoUsd(gpt4o_mini_, U(7, 3, 5));
  EXPECT_EQ(fixed, 3'825'000'000);  // 3825 nano per request, exactly 3.825 USD
  EXPECT_EQ(FormatUsd(fixed), "3.825000000");
}

TEST_F(MoneyCostTest, HugeTokenCountsDoNotOverflow) {
  // 3e12 output tokens x 1e7 pico = 3e19 pico: beyond int64, exact in 128 bits.
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(0, 0, 3'000'000'000'000)), 30'000'000'000'000'000);
  // Largest result that fits: INT64_MAX tokens at 1000 pico (0.001 USD/1M) each.
  EXPECT_EQ(CostNanoUsd(PriceTable{1'000, 0, 0}, U(kInt64Max, 0, 0)), kInt64Max);
  // Beyond it the cost saturates at INT64_MAX nano-USD (~9.22e9 USD) instead of wrapping.
  EXPECT_EQ(CostNanoUsd(PriceTable{1'001, 0, 0}, U(kInt64Max, 0, 0)), kInt64Max);
  EXPECT_EQ(CostNanoUsd(gpt4o_, U(kInt64Max, kInt64Max / 2, kInt64Max)), kInt64Max);
  EXPECT_EQ(CostNanoUsd(PriceTable{kInt64Max, kInt64Max, kInt64Max}, U(kInt64Max, 1, kInt64Max)),
            kInt64Max);
}

class MoneyFormatTest : public ::testing::Test {};

TEST_F(MoneyFormatTest, PrintsNineDecimals) {
  EXPECT_EQ(FormatUsd(0), "0.000000000");
  EXPECT_EQ(FormatUsd(123'450), "0.000123450");
  EXPECT_EQ(FormatUsd(1), "0.000000001");
  EXPECT_EQ(FormatUsd(kNanoPerUsd), "1.000000000");
  EXPECT_EQ(FormatUsd(4'720'000), "0.004720000");
  EXPECT_EQ(FormatUsd(12'345'678'901'234), "12345.678901234");
}

TEST_F(MoneyFormatTest, PrintsNegativeAmountsAndTheInt64Extremes) {
  EXPECT_EQ(FormatUsd(-1), "-0.000000001");
  EXPECT_EQ(FormatUsd(-2'500'000'000), "-2.500000000");
  EXPECT_EQ(FormatUsd(kInt64Max), "9223372036.854775807");
  EXPECT_EQ(FormatUsd(kInt64Min), "-9223372036.854775808");
}

}  // namespace
}  // namespace switchyard::accounting
