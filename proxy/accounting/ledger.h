// The spend ledger: one row per API request in a SQLite file (WAL). Append() only queues the
// row (a mutex and a vector push); a writer thread commits queued rows in one transaction
// every flush interval, so a crash loses at most that interval. Close() flushes everything.
// Thread-safe. Queries open their own read connection and may run while the writer runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::accounting {

inline constexpr std::int64_t kDayMs = 86'400'000;  // a UTC day: the ledger's rollup unit

enum class UsageSource { kReported, kEstimated, kNone };
const char* UsageSourceName(UsageSource source);  // "reported", "estimated", "none"

struct LedgerRow {
  std::int64_t time_ms = 0;  // request start, Unix epoch milliseconds (UTC)
  std::string request_id;
  std::string key_id;    // "" in open mode
  std::string tenant;    // "" in open mode
  std::string profile;   // "" for an explicit model
  std::string upstream;  // "" when no upstream was chosen
  std::string model;     // public model name; "" when none was chosen
  int tier = 0;
  double score = -1;  // the classifier's score; -1 when not classified
  std::int64_t prompt_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  UsageSource usage_source = UsageSource::kNone;
  std::int64_t cost_nano_usd = 0;
  std::int64_t baseline_cost_nano_usd = 0;  // the same usage priced at the profile's reference
  double duration_ms = 0;
  double ttft_ms = -1;  // time to first token (first byte of the body); -1 when none
  int status = 0;
  std::string error_kind;  // "" on success
};

// What `switchyard spend` and GET /v1/spend group by.
enum class SpendGroupBy { kKey, kTenant, kModel, kUpstream, kDay };

struct SpendLine {
  std::string group;  // the key id, tenant, model, upstream or UTC day (YYYY-MM-DD)
  std::int64_t requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t cached_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t reasoning_tokens = 0;
  std::int64_t cost_nano_usd = 0;
  std::int64_t baseline_cost_nano_usd = 0;
};

class Ledger {
 public:
  // Opens (creating if needed) the file and its schema, and starts the writer thread.
  // Throws std::runtime_error with the path and SQLite's message on failure. An interval
  // below 1 ms counts as 1 ms. WAL with synchronous=NORMAL: a process crash loses at most the
  // rows of one interval; a power loss may also undo the last commits.
  static std::unique_ptr<Ledger> Open(const std::string& path,
                                      std::chrono::milliseconds flush_interval);
  // Close(), then one more attempt for rows still queued; if that fails too they are lost
  // and their number is logged to stderr.
  ~Ledger();

  // Queues a row; never blocks on I/O. The writer commits every flush interval, and sooner
  // whenever 1,024 rows are waiting. A failed commit (disk full, file locked by another
  // writer for over a second, I/O error) keeps the rows queued in order and retries at the
  // next interval, counted in write_errors() and logged to stderr (path and SQLite's message,
  // never row contents); rows are never dropped, so the queue grows while commits fail.
  void Append(LedgerRow row);
  // Blocks until every row appended before the call is committed (or a commit failed).
  void Flush();
  // Flushes and stops the writer; rows appended after Close are committed at once, in the
  // caller's thread. Idempotent.
  void Close();

  std::uint64_t rows_written() const;
  std::uint64_t write_errors() const;
  const std::string& path() const;

  // Totals per group over rows with time_ms >= since_ms, largest cost first (then by group).
  // Throws std::runtime_error on a missing or unreadable file; never creates one.
  static std::vector<SpendLine> Spend(const std::string& path, SpendGroupBy by,
                                      std::int64_t since_ms);
  // Cost per key id and per tenant since `since_ms` (budgets are rebuilt from these at start),
  // sorted by id; empty ids (open mode) and ids without cost since then are left out. Reads
  // the daily rollup, and the rows of a partial first day. Throws like Spend.
  struct Totals {
    std::vector<std::pair<std::string, std::int64_t>> by_key;
    std::vector<std::pair<std::string, std::int64_t>> by_tenant;
  };
  static Totals CostSince(const std::string& path, std::int64_t since_ms);

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace switchyard::accounting
