#include "proxy/accounting/budgets.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "proxy/accounting/money.h"

namespace switchyard::accounting {

namespace chrono = std::chrono;

std::int64_t NowMs() {
  return chrono::duration_cast<chrono::milliseconds>(chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t Budgets::PeriodStartMs(config::BudgetPeriod period, std::int64_t now_ms) {
  const chrono::sys_days day =
      chrono::floor<chrono::days>(chrono::sys_time<chrono::milliseconds>(chrono::milliseconds(now_ms)));
  chrono::sys_days start = day;
  if (period == config::BudgetPeriod::kMonth) {
    const chrono::year_month_day ymd{day};
    start = chrono::sys_days{ymd.year() / ymd.month() / 1};
  }
  return chrono::duration_cast<chrono::milliseconds>(start.time_since_epoch()).count();
}

static std::int64_t PeriodEndMs(config::BudgetPeriod period, std::int64_t start_ms) {
  const chrono::sys_days start{chrono::duration_cast<chrono::days>(chrono::milliseconds(start_ms))};
  chrono::sys_days end = start + chrono::days(1);
  if (period == config::BudgetPeriod::kMonth) {
    const chrono::year_month_day ymd{start};
    end = chrono::sys_days{(ymd.year() / ymd.month() / 1) + chrono::months(1)};
  }
  return chrono::duration_cast<chrono::milliseconds>(end.time_since_epoch()).count();
}

Budgets::Budgets(const std::vector<config::Budget>& budgets) { Bind(budgets); }

std::vector<std::size_t> Budgets::Bind(const std::vector<config::Budget>& budgets) {
  std::lock_guard lock(mutex_);
  std::vector<std::size_t> ids;
  for (const config::Budget& b : budgets) {
    auto same = [&](const Entry& e) { return e.scope == b.scope && e.name == b.name && e.period == b.period; };
    auto it = std::find_if(budgets_.begin(), budgets_.end(), same);
    if (it == budgets_.end()) {
      Entry entry;
      entry.scope = b.scope;
      entry.name = b.name;
      entry.period = b.period;
      it = budgets_.insert(budgets_.end(), std::move(entry));
    }
    it->limit = std::llround(b.limit_usd * static_cast<double>(kNanoPerUsd));
    it->soft_share = b.soft_limit;
    ids.push_back(static_cast<std::size_t>(it - budgets_.begin()));
  }
  return ids;
}

void Budgets::Roll(Entry& entry, std::int64_t now_ms) {
  const std::int64_t start = PeriodStartMs(entry.period, now_ms);
  if (start <= entry.period_start) return;  // periods only move forward
  entry.spent = 0;  // a new day or month; holds stay held
  entry.period_start = start;
}

void Budgets::Restore(std::size_t budget, std::int64_t spent_nano_usd, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Entry& entry = budgets_.at(budget);
  Roll(entry, now_ms);
  entry.spent = spent_nano_usd;
  entry.restored = true;
}

bool Budgets::restored(std::size_t budget) {
  std::lock_guard lock(mutex_);
  return budgets_.at(budget).restored;
}

std::optional<Reservation> Budgets::Reserve(std::span<const std::size_t> applicable,
                                            std::int64_t worst_nano_usd, std::int64_t now_ms,
                                            std::size_t* refused) {
  std::lock_guard lock(mutex_);
  for (std::size_t i : applicable) {
    Entry& entry = budgets_[i];
    Roll(entry, now_ms);
    // Compared as limit - used >= worst so that no sum can overflow.
    if (entry.limit - entry.spent - entry.reserved < worst_nano_usd) {
      *refused = i;
      return std::nullopt;
    }
  }
  Reservation reservation{{applicable.begin(), applicable.end()}, worst_nano_usd};
  for (std::size_t i : applicable) budgets_[i].reserved += worst_nano_usd;
  return reservation;
}

void Budgets::Settle(const Reservation& reservation, std::int64_t actual_nano_usd,
                     std::int64_t started_ms, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (std::size_t i : reservation.budgets) {
    Entry& entry = budgets_[i];
    Roll(entry, now_ms);
    entry.reserved -= reservation.nano_usd;
    // Spend counts in the period the request started in, as the ledger (and so a restart)
    // counts it: one that began before midnight leaves the new day untouched.
    if (started_ms >= entry.period_start) entry.spent += actual_nano_usd;
  }
}

bool Budgets::BelowSoftLimit(std::span<const std::size_t> applicable, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  for (std::size_t i : applicable) {
    Entry& entry = budgets_[i];
    if (entry.soft_share <= 0) continue;
    Roll(entry, now_ms);
    const double left = static_cast<double>(entry.limit - entry.spent - entry.reserved);
    if (left < entry.soft_share * static_cast<double>(entry.limit)) return true;
  }
  return false;
}

Budgets::State Budgets::state(std::size_t budget, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  Entry& entry = budgets_.at(budget);
  Roll(entry, now_ms);
  return {entry.limit, entry.spent, entry.reserved, PeriodEndMs(entry.period, entry.period_start)};
}

}  // namespace switchyard::accounting
