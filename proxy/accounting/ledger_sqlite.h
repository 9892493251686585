// SQLite plumbing shared by the ledger's writer (ledger.cc) and its reports
// (ledger_reports.cc): owning handles, and helpers that throw std::runtime_error naming the
// file and SQLite's message. Internal to switchyard_ledger. One thread at a time per connection.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

namespace switchyard::accounting {

// How long a statement waits for another connection's lock. The writer retries at its next
// interval anyway, so this only bounds how long one attempt (and Close) can stall.
inline constexpr int kBusyTimeoutMs = 1000;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// "ledger <path>: <what>: <SQLite's message>".
[[noreturn]] void ThrowSqlite(const std::string& path, std::string_view what, sqlite3* db);

// sqlite3_open_v2 with `flags`, and the busy timeout set.
DbPtr OpenDb(const std::string& path, int flags);
// Read-only, for reports: never creates the file, and works beside an open writer (WAL).
DbPtr OpenForReading(const std::string& path);

StmtPtr Prepare(sqlite3* db, const std::string& path, const char* sql);
void Exec(sqlite3* db, const std::string& path, const std::string& sql,
          std::string_view what = "cannot set up");
// The first column of the first row as text ("" when there is no row).
std::string QueryText(sqlite3* db, const std::string& path, const char* sql);

}  // namespace switchyard::accounting
