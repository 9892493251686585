#include "proxy/accounting/ledger_sqlite.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <stdexcept>

namespace switchyard::accounting {

void ThrowSqlite(const std::string& path, std::string_view what, sqlite3* db) {
  throw std::runtime_error(fmt::format("ledger {}: {}: {}", path, what,
                                       db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
}

DbPtr OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbPtr db(raw);  // closed on failure too
  if (rc != SQLITE_OK) ThrowSqlite(path, "cannot open", raw);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return db;
}

DbPtr OpenForReading(const std::string& path) {
  // SQLite's own message for a missing file is "unable to open database file".
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("ledger " + path + ": no such file");
  return OpenDb(path, SQLITE_OPEN_READONLY);
}

StmtPtr Prepare(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    ThrowSqlite(path, "cannot prepare a statement", db);
  return StmtPtr(stmt);
}

void Exec(sqlite3* db, const std::string& path, const std::string& sql, std::string_view what) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    ThrowSqlite(path, what, db);
}

std::string QueryText(sqlite3* db, const std::string& path, const char* sql) {
  StmtPtr stmt = Prepare(db, path, sql);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return "";
  if (rc != SQLITE_ROW) ThrowSqlite(path, "cannot set up", db);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
  return text != nullptr ? text : "";
}

}  // namespace switchyard::accounting
