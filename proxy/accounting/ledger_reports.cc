// The ledger's reports, Ledger::Spend and Ledger::CostSince, each on its own read-only
// connection (see ledger.h).
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include "proxy/accounting/ledger.h"
#include "proxy/accounting/ledger_sqlite.h"

namespace switchyard::accounting {
namespace {

// The UTC date of a day number since the epoch: 0 -> "1970-01-01".
std::string UtcDate(std::int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

}  // namespace

std::vector<SpendLine> Ledger::Spend(const std::string& path, SpendGroupBy by,
                                     std::int64_t since_ms) {
  const char* group = "key_id";
  switch (by) {
    case SpendGroupBy::kKey:
      break;
    case SpendGroupBy::kTenant:
      group = "tenant";
      break;
    case SpendGroupBy::kModel:
      group = "model";
      break;
    case SpendGroupBy::kUpstream:
      group = "upstream";
      break;
    case SpendGroupBy::kDay:
      // The day number, floored (SQLite's division truncates): cheaper than strftime().
      group = "(time_ms / 86400000 - (time_ms < 0 AND time_ms % 86400000 != 0))";
      break;
  }
  const std::string sql = fmt::format(
      "SELECT {0}, COUNT(*), SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens), "
      "SUM(reasoning_tokens), SUM(cost_nano_usd) AS cost, SUM(baseline_cost_nano_usd) "
      "FROM requests WHERE time_ms >= ?1 GROUP BY 1 ORDER BY cost DESC, 1 ASC",
      group);
  DbPtr db = OpenForReading(path);
  StmtPtr stmt = Prepare(db.get(), path, sql.c_str());
  sqlite3_bind_int64(stmt.get(), 1, since_ms);
  std::vector<SpendLine> lines;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    sqlite3_stmt* s = stmt.get();
    SpendLine& line = lines.emplace_back();
    if (by == SpendGroupBy::kDay) {
      line.group = UtcDate(sqlite3_column_int64(s, 0));
    } else {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      line.group.assign(text != nullptr ? text : "",
                        static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
    }
    line.requests = sqlite3_column_int64(s, 1);
    line.prompt_tokens = sqlite3_column_int64(s, 2);
    line.cached_tokens = sqlite3_column_int64(s, 3);
    line.completion_tokens = sqlite3_column_int64(s, 4);
    line.reasoning_tokens = sqlite3_column_int64(s, 5);
    line.cost_nano_usd = sqlite3_column_int64(s, 6);
    line.baseline_cost_nano_usd = sqlite3_column_int64(s, 7);
  }
  if (rc != SQLITE_DONE) ThrowSqlite(path, "cannot read", db.get());
  return lines;
}

Ledger::Totals Ledger::CostSince(const std::string& path, std::int64_t since_ms) {
  DbPtr db = OpenForReading(path);
  // One read transaction, so both lists come from the same snapshot.
  Exec(db.get(), path, "BEGIN", "cannot read");
  // Whole days from the rollup; a `since` inside a day adds that day's rows from its time on
  // (budget periods start at midnight, so rebuilds never need them).
  const std::int64_t first_whole_day = (since_ms + kDayMs - 1) / kDayMs * kDayMs;
  auto query = [&](const char* column, std::vector<std::pair<std::string, std::int64_t>>* out) {
    const std::string sql = fmt::format(
        "SELECT id, SUM(cost) FROM ("
        "SELECT {0} AS id, cost_nano_usd AS cost FROM spend_by_day WHERE day_ms >= ?2 UNION ALL "
        "SELECT {0}, cost_nano_usd FROM requests WHERE time_ms >= ?1 AND time_ms < ?2) "
        "WHERE id != '' GROUP BY id HAVING SUM(cost) != 0 ORDER BY id",
        column);
    StmtPtr stmt = Prepare(db.get(), path, sql.c_str());
    sqlite3_bind_int64(stmt.get(), 1, since_ms);
    sqlite3_bind_int64(stmt.get(), 2, first_whole_day);
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
      out->emplace_back(std::string(text != nullptr ? text : "",
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), 0))),
                        sqlite3_column_int64(stmt.get(), 1));
    }
    if (rc != SQLITE_DONE) ThrowSqlite(path, "cannot read", db.get());
  };
  Totals totals;
  query("key_id", &totals.by_key);
  query("tenant", &totals.by_tenant);
  Exec(db.get(), path, "COMMIT", "cannot read");
  return totals;
}

}  // namespace switchyard::accounting
