// Spend limits per client key and per tenant over calendar days or months (UTC). A request
// reserves its worst-case cost before it is sent and settles its real cost when it ends, so
// requests racing each other can never together spend past a limit. Thread-safe (one mutex;
// each call is a few additions). Shared by every config a process loads: a budget keeps its
// spend across reloads as long as its scope, name and period stay the same. Budgets are per
// process: replicas or sidecars each enforce the whole limit.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"

namespace switchyard::accounting {

struct Reservation {
  std::vector<std::size_t> budgets;  // budget ids (see Bind)
  std::int64_t nano_usd = 0;         // held on each of them
};

class Budgets {
 public:
  Budgets() = default;
  // Binds `budgets`: their ids are 0, 1, ... in order.
  explicit Budgets(const std::vector<config::Budget>& budgets);

  // The id of each of a config's budgets: the known budget with the same scope, name and
  // period (whose limits become the config's), or a new one. Ids never change meaning.
  std::vector<std::size_t> Bind(const std::vector<config::Budget>& budgets);

  // Start of the period `now_ms` falls in: midnight UTC, or the first of the month.
  static std::int64_t PeriodStartMs(config::BudgetPeriod period, std::int64_t now_ms);

  // Spend already recorded in the current period (rebuilt from the ledger at start).
  void Restore(std::size_t budget, std::int64_t spent_nano_usd, std::int64_t now_ms);
  // Whether Restore has been called for `budget` (a budget a reload added has not).
  bool restored(std::size_t budget);

  // Holds `worst_nano_usd` on every budget in `applicable` if each has room for it; otherwise
  // holds nothing and sets *refused to a budget without room.
  std::optional<Reservation> Reserve(std::span<const std::size_t> applicable,
                                     std::int64_t worst_nano_usd, std::int64_t now_ms,
                                     std::size_t* refused);
  // Releases the hold and records what the request (started at `started_ms`) really cost.
  void Settle(const Reservation& reservation, std::int64_t actual_nano_usd, std::int64_t started_ms,
              std::int64_t now_ms);

  // Whether one of `applicable` has less than its soft-limit share left.
  bool BelowSoftLimit(std::span<const std::size_t> applicable, std::int64_t now_ms);

  struct State {
    std::int64_t limit_nano_usd = 0;
    std::int64_t spent_nano_usd = 0;     // settled this period
    std::int64_t reserved_nano_usd = 0;  // held by requests in flight
    std::int64_t period_end_ms = 0;      // when spent starts again from 0
  };
  State state(std::size_t budget, std::int64_t now_ms);
  std::size_t size() const { return budgets_.size(); }

 private:
  struct Entry {
    config::Budget::Scope scope;
    std::string name;
    config::BudgetPeriod period;
    std::int64_t limit = 0;
    double soft_share = 0;
    std::int64_t period_start = -1;
    std::int64_t spent = 0;
    std::int64_t reserved = 0;
    bool restored = false;
  };
  void Roll(Entry& entry, std::int64_t now_ms);  // under mutex_

  std::mutex mutex_;
  std::vector<Entry> budgets_;
};

// Milliseconds since the Unix epoch, now.
std::int64_t NowMs();

}  // namespace switchyard::accounting
