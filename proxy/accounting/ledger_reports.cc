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
  auto query = [&](const char* column, std::vector<std::pair<std::string, std::int64_t>>* out) {
    // Hops from one distinct id to the next in the covering index, then sums each id's
    // range from since_ms: the cost follows the ids and the rows in the window, not the
    // whole history (a plain GROUP BY scans every row of the index).
    const std::string sql = fmt::format(
        "WITH RECURSIVE ids(id) AS ("
        "SELECT MIN({0}) FROM requests WHERE {0} > '' UNION ALL "
        "SELECT (SELECT MIN({0}) FROM requests WHERE {0} > ids.id) FROM ids WHERE id IS NOT NULL) "
        "SELECT id, cost FROM (SELECT id, (SELECT SUM(cost_nano_usd) FROM requests "
        "WHERE {0} = ids.id AND time_ms >= ?1) AS cost FROM ids WHERE id IS NOT NULL) "
        "WHERE cost IS NOT NULL ORDER BY id",
        column);
    StmtPtr stmt = Prepare(db.get(), path, sql.c_str());
    sqlite3_bind_int64(stmt.get(), 1, since_ms);
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
