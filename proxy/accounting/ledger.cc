#include "proxy/accounting/ledger.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

#include "proxy/accounting/ledger_sqlite.h"

namespace switchyard::accounting {
namespace {

// PRAGMA user_version of the schema below. Open() upgrades older files step by step and
// refuses newer ones, so a later build can add columns without breaking old ledgers.
constexpr int kSchemaVersion = 2;
// Rows that wake the writer before its interval ends, so a burst commits in batches of about
// this many instead of a whole interval's rows: at 20k requests/s a one-second interval held
// 20k rows, and the queue and the batch being committed kept 20 MB of capacity for good.
constexpr std::size_t kBatchRows = 1024;
// The same failure is logged at most this often while it repeats.
constexpr std::chrono::seconds kRepeatLogInterval{60};

// Indexes: time_ms for the `since` range of every report; (key_id|tenant, time_ms, cost)
// cover budget rebuilds, which then never touch the table itself.
constexpr const char* kCreateSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS requests (
  time_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  profile TEXT NOT NULL,
  upstream TEXT NOT NULL,
  model TEXT NOT NULL,
  tier INTEGER NOT NULL,
  score REAL NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  cached_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_source TEXT NOT NULL,
  cost_nano_usd INTEGER NOT NULL,
  baseline_cost_nano_usd INTEGER NOT NULL,
  duration_ms REAL NOT NULL,
  ttft_ms REAL NOT NULL,
  status INTEGER NOT NULL,
  error_kind TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS requests_by_time ON requests (time_ms);
CREATE INDEX IF NOT EXISTS requests_by_key ON requests (key_id, time_ms, cost_nano_usd);
CREATE INDEX IF NOT EXISTS requests_by_tenant ON requests (tenant, time_ms, cost_nano_usd);
)sql";

// Version 2: budget rebuilds read a daily rollup of cost per key and tenant, which the writer
// keeps with one upsert per (day, key, tenant) of each batch, instead of two covering indexes
// that cost every row two more B-tree inserts (more than half of the writer's time).
constexpr const char* kMigrateToV2 = R"sql(
CREATE TABLE IF NOT EXISTS spend_by_day (
  day_ms INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  cost_nano_usd INTEGER NOT NULL,
  PRIMARY KEY (day_ms, key_id, tenant)) WITHOUT ROWID;
INSERT INTO spend_by_day
  SELECT time_ms - time_ms % 86400000, key_id, tenant, SUM(cost_nano_usd) FROM requests
  WHERE (key_id != '' OR tenant != '') AND cost_nano_usd != 0 GROUP BY 1, 2, 3;
DROP INDEX IF EXISTS requests_by_key;
DROP INDEX IF EXISTS requests_by_tenant;
)sql";

constexpr const char* kAddSpend =
    "INSERT INTO spend_by_day (day_ms, key_id, tenant, cost_nano_usd) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (day_ms, key_id, tenant) DO UPDATE SET "
    "cost_nano_usd = cost_nano_usd + excluded.cost_nano_usd";

constexpr int kColumns = 20;
// Rows per INSERT statement in a full batch: one statement's step, reset and halt cost about as
// much as binding and inserting a row, so a batch inserts this many at a time.
constexpr int kRowsPerInsert = 16;

// INSERT INTO requests (...) VALUES (?, ..., ?), ... for `rows` rows, with the parameters
// numbered in order (row r's column c is parameter r * kColumns + c + 1).
std::string InsertSql(int rows) {
  std::string sql =
      "INSERT INTO requests (time_ms, request_id, key_id, tenant, profile, upstream, model, tier, "
      "score, prompt_tokens, cached_tokens, completion_tokens, reasoning_tokens, usage_source, "
      "cost_nano_usd, baseline_cost_nano_usd, duration_ms, ttft_ms, status, error_kind) VALUES ";
  for (int r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (int c = 0; c < kColumns; ++c) sql += c ? ",?" : "?";
    sql += ')';
  }
  return sql;
}

void SetUpSchema(sqlite3* db, const std::string& path) {
  // WAL is a property of the file: readers never block the writer, nor it them.
  const std::string mode = QueryText(db, path, "PRAGMA journal_mode=WAL");
  if (mode != "wal")
    throw std::runtime_error(
        fmt::format("ledger {}: cannot use WAL (journal_mode is '{}')", path, mode));
  // NORMAL under WAL: a commit survives a process crash; a power loss may lose the last ones.
  Exec(db, path, "PRAGMA synchronous=NORMAL");
  // IMMEDIATE so two processes opening a new file do not both create the schema.
  Exec(db, path, "BEGIN IMMEDIATE");
  try {
    const int version = std::stoi(QueryText(db, path, "PRAGMA user_version"));
    if (version > kSchemaVersion)
      throw std::runtime_error(
          fmt::format("ledger {}: schema version {} is newer than this build's ({})", path, version,
                      kSchemaVersion));
    if (version < 1) Exec(db, path, kCreateSchemaV1);
    if (version < 2) Exec(db, path, kMigrateToV2);
    // Later versions: `if (version < 3) Exec(db, path, kMigrateToV3);` and so on.
    if (version != kSchemaVersion)
      Exec(db, path, fmt::format("PRAGMA user_version={}", kSchemaVersion));
    Exec(db, path, "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

int BindText(sqlite3_stmt* stmt, int index, const std::string& text) {
  // STATIC: the row outlives the step that reads it.
  return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

// Binds `r` as the row-th row of an insert statement (0-based).
bool BindRow(sqlite3_stmt* s, int row, const LedgerRow& r) {
  const int o = row * kColumns;
  int rc = sqlite3_bind_int64(s, o + 1, r.time_ms);
  rc |= BindText(s, o + 2, r.request_id);
  rc |= BindText(s, o + 3, r.key_id);
  rc |= BindText(s, o + 4, r.tenant);
  rc |= BindText(s, o + 5, r.profile);
  rc |= BindText(s, o + 6, r.upstream);
  rc |= BindText(s, o + 7, r.model);
  rc |= sqlite3_bind_int(s, o + 8, r.tier);
  rc |= sqlite3_bind_double(s, o + 9, r.score);
  rc |= sqlite3_bind_int64(s, o + 10, r.prompt_tokens);
  rc |= sqlite3_bind_int64(s, o + 11, r.cached_tokens);
  rc |= sqlite3_bind_int64(s, o + 12, r.completion_tokens);
  rc |= sqlite3_bind_int64(s, o + 13, r.reasoning_tokens);
  rc |= sqlite3_bind_text(s, o + 14, UsageSourceName(r.usage_source), -1, SQLITE_STATIC);
  rc |= sqlite3_bind_int64(s, o + 15, r.cost_nano_usd);
  rc |= sqlite3_bind_int64(s, o + 16, r.baseline_cost_nano_usd);
  rc |= sqlite3_bind_double(s, o + 17, r.duration_ms);
  rc |= sqlite3_bind_double(s, o + 18, r.ttft_ms);
  rc |= sqlite3_bind_int(s, o + 19, r.status);
  rc |= BindText(s, o + 20, r.error_kind);
  return rc == SQLITE_OK;  // SQLITE_OK is 0
}

// The rows' cost per UTC day, key id and tenant; rows of neither a key nor a tenant (open
// mode) and rows that cost nothing are left out.
std::map<std::tuple<std::int64_t, std::string_view, std::string_view>, std::int64_t> SpendByDay(
    const std::vector<LedgerRow>& rows) {
  std::map<std::tuple<std::int64_t, std::string_view, std::string_view>, std::int64_t> out;
  for (const LedgerRow& r : rows)
    if ((!r.key_id.empty() || !r.tenant.empty()) && r.cost_nano_usd != 0)
      out[{r.time_ms - r.time_ms % kDayMs, r.key_id, r.tenant}] += r.cost_nano_usd;
  return out;
}

// Runs a statement that returns no rows and resets it for reuse.
bool Run(sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE;
}

// fputs, not fmt::print, which throws when stderr is closed: this runs on the writer thread.
void Log(const std::string& line) { std::fputs(line.c_str(), stderr); }

}  // namespace

const char* UsageSourceName(UsageSource source) {
  switch (source) {
    case UsageSource::kReported:
      return "reported";
    case UsageSource::kEstimated:
      return "estimated";
    case UsageSource::kNone:
      break;
  }
  return "none";
}

struct Ledger::Impl {
  std::string path;
  std::chrono::milliseconds flush_interval{};
  DbPtr db;  // declared before the statements, so it is closed after them
  StmtPtr insert, insert_many, add_spend, begin, commit, rollback;  // insert_many: kRowsPerInsert rows

  // One commit attempt at a time (the writer thread, or callers after Close). Guards db, the
  // statements, in_flight and the log state below.
  std::mutex db_mu;
  std::vector<LedgerRow> in_flight;  // the batch being committed; empty between attempts
  std::string last_logged_error;
  std::chrono::steady_clock::time_point last_logged_at;
  std::uint64_t failed_streak = 0;

  std::mutex mu;                 // guards everything below; never held during I/O
  std::condition_variable wake;  // the writer: flush requested or stopping
  std::condition_variable done;  // Flush() callers: an attempt finished
  std::vector<LedgerRow> queue;  // appended, not yet committed, in append order
  std::uint64_t appended = 0;    // rows ever appended
  std::uint64_t committed = 0;   // rows ever committed; always a prefix of the appended ones
  std::uint64_t attempts = 0;    // commit attempts begun
  std::uint64_t last_failed_attempt = 0;
  bool flush_requested = false;
  bool batch_ready = false;  // the queue reached kBatchRows since the writer last woke
  bool stopping = false;
  bool closed = false;  // the writer is gone: commits happen in the caller

  std::mutex close_mu;  // serializes Close()
  std::thread writer;

  std::atomic<std::uint64_t> rows_written{0};
  std::atomic<std::uint64_t> write_errors{0};

  // Commits the queue in one transaction; on failure puts the rows back in front of the queue.
  // Returns false on failure. Never throws.
  bool CommitQueued();
  bool WriteInFlight(std::string* error);
  void LogFailure(const std::string& error, std::size_t pending);
  void WriterLoop();
};

bool Ledger::Impl::WriteInFlight(std::string* error) {
  sqlite3* h = db.get();
  bool ok = Run(begin.get());
  std::size_t i = 0;
  for (; ok && in_flight.size() - i >= kRowsPerInsert; i += kRowsPerInsert) {
    for (int row = 0; ok && row < kRowsPerInsert; ++row) ok = BindRow(insert_many.get(), row, in_flight[i + row]);
    ok = ok && Run(insert_many.get());
  }
  for (; ok && i < in_flight.size(); ++i) ok = BindRow(insert.get(), 0, in_flight[i]) && Run(insert.get());
  if (ok) {
    for (const auto& [group, cost] : SpendByDay(in_flight)) {
      const auto& [day, key_id, tenant] = group;
      sqlite3_stmt* s = add_spend.get();
      int rc = sqlite3_bind_int64(s, 1, day);
      rc |= sqlite3_bind_text(s, 2, key_id.data(), static_cast<int>(key_id.size()), SQLITE_STATIC);
      rc |= sqlite3_bind_text(s, 3, tenant.data(), static_cast<int>(tenant.size()), SQLITE_STATIC);
      rc |= sqlite3_bind_int64(s, 4, cost);
      ok = rc == SQLITE_OK && Run(s);
      if (!ok) break;
    }
  }
  ok = ok && Run(commit.get());
  if (ok) return true;
  *error = sqlite3_errmsg(h);
  // Some errors (SQLITE_FULL, I/O) already rolled the transaction back; others leave it open.
  if (sqlite3_get_autocommit(h) == 0) Run(rollback.get());
  return false;
}

bool Ledger::Impl::CommitQueued() {
  std::lock_guard db_lock(db_mu);
  std::uint64_t attempt = 0;
  {
    std::lock_guard lock(mu);
    if (queue.empty()) return true;
    in_flight.swap(queue);  // the queue gets in_flight's emptied buffer: no reallocation
    attempt = ++attempts;
  }
  std::string error;
  const bool ok = WriteInFlight(&error);
  const std::size_t batch = in_flight.size();
  std::size_t pending = 0;
  {
    // The counters change under mu, so a Flush() that returns sees them.
    std::lock_guard lock(mu);
    if (ok) {
      committed += batch;
      rows_written.fetch_add(batch, std::memory_order_relaxed);
    } else {
      write_errors.fetch_add(1, std::memory_order_relaxed);
      // Back in front of the rows appended meanwhile, so the order is kept.
      in_flight.insert(in_flight.end(), std::make_move_iterator(queue.begin()),
                       std::make_move_iterator(queue.end()));
      queue.swap(in_flight);
      last_failed_attempt = attempt;
      pending = queue.size();
    }
    in_flight.clear();
  }
  done.notify_all();
  if (ok) {
    if (failed_streak > 0)
      Log(fmt::format("switchyard: ledger {}: commits resumed after {} failed attempt{}\n", path,
                      failed_streak, failed_streak == 1 ? "" : "s"));
    failed_streak = 0;
    last_logged_error.clear();
  } else {
    ++failed_streak;
    LogFailure(error, pending);
  }
  return ok;
}

void Ledger::Impl::LogFailure(const std::string& error, std::size_t pending) {
  // Counts and SQLite's message only: rows carry key ids and tenants.
  const auto now = std::chrono::steady_clock::now();
  if (error == last_logged_error && now - last_logged_at < kRepeatLogInterval) return;
  last_logged_error = error;
  last_logged_at = now;
  Log(fmt::format("switchyard: ledger {}: commit failed ({}); {} rows kept for retry\n", path,
                  error, pending));
}

void Ledger::Impl::WriterLoop() {
  std::unique_lock lock(mu);
  for (;;) {
    wake.wait_for(lock, flush_interval, [this] { return flush_requested || batch_ready || stopping; });
    const bool stop = stopping;
    flush_requested = batch_ready = false;
    lock.unlock();
    CommitQueued();
    lock.lock();
    if (stop) return;
  }
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Ledger> Ledger::Open(const std::string& path,
                                     std::chrono::milliseconds flush_interval) {
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->flush_interval = std::max(flush_interval, std::chrono::milliseconds(1));
  // db_mu already serialises every use of the handle: SQLite's own locking would be a second.
  impl->db = OpenDb(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  sqlite3* db = impl->db.get();
  SetUpSchema(db, path);
  impl->insert = Prepare(db, path, InsertSql(1).c_str());
  impl->insert_many = Prepare(db, path, InsertSql(kRowsPerInsert).c_str());
  impl->add_spend = Prepare(db, path, kAddSpend);
  impl->begin = Prepare(db, path, "BEGIN IMMEDIATE");
  impl->commit = Prepare(db, path, "COMMIT");
  impl->rollback = Prepare(db, path, "ROLLBACK");
  Impl* raw = impl.get();
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Ledger::~Ledger() {
  Close();
  // Close() already tried; one last attempt before the rows go with the process.
  if (!impl_->CommitQueued()) {
    std::lock_guard lock(impl_->mu);
    Log(fmt::format("switchyard: ledger {}: {} rows could not be written and are lost\n",
                    impl_->path, impl_->queue.size()));
  }
}

void Ledger::Append(LedgerRow row) {
  Impl& m = *impl_;
  bool closed = false, batch_full = false;
  {
    std::lock_guard lock(m.mu);
    m.queue.push_back(std::move(row));
    ++m.appended;
    closed = m.closed;
    // Only as the queue reaches the size: a queue that failed to commit stays above it and
    // waits for the next interval, not for every append.
    batch_full = m.queue.size() == kBatchRows;
    m.batch_ready |= batch_full;
  }
  if (closed)
    m.CommitQueued();
  else if (batch_full)
    m.wake.notify_one();
}

void Ledger::Flush() {
  Impl& m = *impl_;
  std::unique_lock lock(m.mu);
  if (m.closed) {
    lock.unlock();
    m.CommitQueued();
    return;
  }
  const std::uint64_t target = m.appended;
  const std::uint64_t begun = m.attempts;
  if (m.committed >= target) return;
  m.flush_requested = true;
  m.wake.notify_one();
  // An attempt begun before this call may have failed without covering every row; wait for
  // a later one. The writer makes one more attempt before stopping, so this always ends.
  m.done.wait(lock, [&] { return m.committed >= target || m.last_failed_attempt > begun; });
}

void Ledger::Close() {
  Impl& m = *impl_;
  std::lock_guard close_lock(m.close_mu);
  {
    std::lock_guard lock(m.mu);
    if (m.closed) return;
    m.stopping = true;
  }
  m.wake.notify_one();
  m.writer.join();
  {
    std::lock_guard lock(m.mu);
    m.closed = true;
  }
  m.CommitQueued();  // rows appended while the writer was stopping
}

std::uint64_t Ledger::rows_written() const {
  return impl_->rows_written.load(std::memory_order_relaxed);
}

std::uint64_t Ledger::write_errors() const {
  return impl_->write_errors.load(std::memory_order_relaxed);
}

const std::string& Ledger::path() const { return impl_->path; }

}  // namespace switchyard::accounting
