#include "proxy/accounting/budgets.h"

#include <gtest/gtest.h>

namespace switchyard::accounting {
namespace {

using config::Budget;
using config::BudgetPeriod;

// 2026-11-22T10:00:00Z and friends, in Unix epoch milliseconds.
constexpr std::int64_t kNov22 = 1795341600000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kUsd = 1'000'000'000;

TEST(BudgetsTest, PeriodsStartAtUtcMidnightAndOnTheFirstOfTheMonth) {
  EXPECT_EQ(Budgets::PeriodStartMs(BudgetPeriod::kDay, kNov22), kNov22 - 10 * kHour);
  EXPECT_EQ(Budgets::PeriodStartMs(BudgetPeriod::kMonth, kNov22), kNov22 - 10 * kHour - 21 * 24 * kHour);
  EXPECT_EQ(Budgets::PeriodStartMs(BudgetPeriod::kDay, 0), 0);
}

TEST(BudgetsTest, ReservesWhileThereIsRoomAndSettlesTheRealCost) {
  Budgets budgets({{Budget::Scope::kTenant, "acme", BudgetPeriod::kDay, 1.0, 0}});
  const std::size_t acme[] = {0};
  std::size_t refused = 99;
  auto a = budgets.Reserve(acme, kUsd / 2, kNov22, &refused);
  auto b = budgets.Reserve(acme, kUsd / 2, kNov22, &refused);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(budgets.Reserve(acme, 1, kNov22, &refused));  // both halves are held
  EXPECT_EQ(refused, 0u);
  budgets.Settle(*a, kUsd / 10, kNov22, kNov22);  // it cost less than its worst case
  EXPECT_EQ(budgets.state(0, kNov22).spent_nano_usd, kUsd / 10);
  EXPECT_EQ(budgets.state(0, kNov22).reserved_nano_usd, kUsd / 2);
  EXPECT_TRUE(budgets.Reserve(acme, 4 * kUsd / 10, kNov22, &refused));
}

TEST(BudgetsTest, RefusesOnTheFirstBudgetWithoutRoomAndHoldsNothing) {
  Budgets budgets({{Budget::Scope::kKey, "k", BudgetPeriod::kDay, 10.0, 0},
                   {Budget::Scope::kTenant, "t", BudgetPeriod::kMonth, 1.0, 0}});
  const std::size_t both[] = {0, 1};
  std::size_t refused = 99;
  EXPECT_FALSE(budgets.Reserve(both, 2 * kUsd, kNov22, &refused));
  EXPECT_EQ(refused, 1u);
  EXPECT_EQ(budgets.state(0, kNov22).reserved_nano_usd, 0);
}

TEST(BudgetsTest, ANewDayStartsFromZeroButKeepsHoldsOfRequestsInFlight) {
  Budgets budgets({{Budget::Scope::kTenant, "acme", BudgetPeriod::kDay, 1.0, 0}});
  const std::size_t acme[] = {0};
  std::size_t refused = 0;
  budgets.Restore(0, kUsd, kNov22);  // spent all of it earlier today (from the ledger)
  EXPECT_FALSE(budgets.Reserve(acme, 1, kNov22, &refused));
  const std::int64_t tomorrow = kNov22 + 24 * kHour;
  auto held = budgets.Reserve(acme, kUsd / 4, tomorrow, &refused);
  ASSERT_TRUE(held);
  EXPECT_EQ(budgets.state(0, tomorrow).spent_nano_usd, 0);
  EXPECT_EQ(budgets.state(0, tomorrow).period_end_ms, kNov22 - 10 * kHour + 2 * 24 * kHour);
  budgets.Settle(*held, kUsd / 8, tomorrow, tomorrow);
  EXPECT_EQ(budgets.state(0, tomorrow).spent_nano_usd, kUsd / 8);
  EXPECT_EQ(budgets.state(0, tomorrow).reserved_nano_usd, 0);
}

TEST(BudgetsTest, ARequestThatStartedYesterdayDoesNotCountToday) {
  Budgets budgets({{Budget::Scope::kTenant, "acme", BudgetPeriod::kDay, 1.0, 0}});
  const std::size_t acme[] = {0};
  std::size_t refused = 0;
  const std::int64_t before_midnight = kNov22 + 13 * kHour + 59 * 60'000;  // 23:59
  auto held = budgets.Reserve(acme, kUsd / 2, before_midnight, &refused);
  ASSERT_TRUE(held);
  const std::int64_t after_midnight = before_midnight + 2 * 60'000;
  budgets.Settle(*held, kUsd / 4, before_midnight, after_midnight);
  // The ledger counts it on the 22nd as well, so a restart agrees with this.
  EXPECT_EQ(budgets.state(0, after_midnight).spent_nano_usd, 0);
  EXPECT_EQ(budgets.state(0, after_midnight).reserved_nano_usd, 0);
}

TEST(BudgetsTest, ReportsASoftLimitWhenLittleIsLeft) {
  Budgets budgets({{Budget::Scope::kTenant, "acme", BudgetPeriod::kMonth, 10.0, 0.2},
                   {Budget::Scope::kTenant, "hard", BudgetPeriod::kMonth, 10.0, 0}});
  const std::size_t acme[] = {0}, hard[] = {1};
  budgets.Restore(0, 7 * kUsd, kNov22);
  budgets.Restore(1, 9 * kUsd, kNov22);
  EXPECT_FALSE(budgets.BelowSoftLimit(acme, kNov22));  // 3 of 10 left
  budgets.Restore(0, 8 * kUsd + 1, kNov22);
  EXPECT_TRUE(budgets.BelowSoftLimit(acme, kNov22));
  EXPECT_FALSE(budgets.BelowSoftLimit(hard, kNov22));  // no soft limit set
}

}  // namespace
}  // namespace switchyard::accounting
