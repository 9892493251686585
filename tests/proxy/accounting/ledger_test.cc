// The spend ledger on real SQLite files in a temporary directory, the spend report formats and
// parsers, and the `switchyard spend` command through RunSpend.
#include "proxy/accounting/ledger.h"
#include "proxy/accounting/money.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "proxy/accounting/spend_command.h"
#include "proxy/accounting/spend_report.h"

namespace switchyard::accounting {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kNov1 = 1'793'491'200'000;  // 2026-11-01T00:00:00Z

auto Fields(const LedgerRow& r) {
  return std::tie(r.time_ms, r.request_id, r.key_id, r.tenant, r.profile, r.upstream, r.model,
                  r.tier, r.score, r.prompt_tokens, r.cached_tokens, r.completion_tokens,
                  r.reasoning_tokens, r.usage_source, r.cost_nano_usd, r.baseline_cost_nano_usd,
                  r.duration_ms, r.ttft_ms, r.status, r.error_kind);
}

LedgerRow Row(std::int64_t time_ms, std::string key, std::string tenant, std::string model,
              std::string upstream, std::int64_t cost, std::int64_t baseline = 0) {
  LedgerRow r;
  r.time_ms = time_ms;
  r.request_id = "req-" + std::to_string(time_ms) + "-" + key;
  r.key_id = std::move(key);
  r.tenant = std::move(tenant);
  r.model = std::move(model);
  r.upstream = std::move(upstream);
  r.prompt_tokens = 100;
  r.cached_tokens = 10;
  r.completion_tokens = 20;
  r.reasoning_tokens = 5;
  r.usage_source = UsageSource::kReported;
  r.cost_nano_usd = cost;
  r.baseline_cost_nano_usd = baseline;
  return r;
}

// A plain connection for checking what the ledger wrote.
class Db {
 public:
  explicit Db(const std::string& path) {
    EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Db() { sqlite3_close_v2(db_); }
  std::int64_t Int(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
    std::int64_t v = -1;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
  }
  void Exec(const std::string& sql) {
    ASSERT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  std::vector<LedgerRow> Rows() {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_,
                                 "SELECT time_ms, request_id, key_id, tenant, profile, upstream, "
                                 "model, tier, score, prompt_tokens, cached_tokens, "
                                 "completion_tokens, reasoning_tokens, usage_source, "
                                 "cost_nano_usd, baseline_cost_nano_usd, duration_ms, ttft_ms, "
                                 "status, error_kind FROM requests ORDER BY rowid",
                                 -1, &s, nullptr),
              SQLITE_OK);
    std::vector<LedgerRow> rows;
    auto text = [&](int i) {
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)));
    };
    while (sqlite3_step(s) == SQLITE_ROW) {
      LedgerRow& r = rows.emplace_back();
      r.time_ms = sqlite3_column_int64(s, 0);
      r.request_id = text(1), r.key_id = text(2), r.tenant = text(3), r.profile = text(4);
      r.upstream = text(5), r.model = text(6);
      r.tier = sqlite3_column_int(s, 7);
      r.score = sqlite3_column_double(s, 8);
      r.prompt_tokens = sqlite3_column_int64(s, 9);
      r.cached_tokens = sqlite3_column_int64(s, 10);
      r.completion_tokens = sqlite3_column_int64(s, 11);
      r.reasoning_tokens = sqlite3_column_int64(s, 12);
      const std::string source = text(13);
      r.usage_source = source == "reported"    ? UsageSource::kReported
                       : source == "estimated" ? UsageSource::kEstimated
                                               : UsageSource::kNone;
      r.cost_nano_usd = sqlite3_column_int64(s, 14);
      r.baseline_cost_nano_usd = sqlite3_column_int64(s, 15);
      r.duration_ms = sqlite3_column_double(s, 16);
      r.ttft_ms = sqlite3_column_double(s, 17);
      r.status = sqlite3_column_int(s, 18);
      r.error_kind = text(19);
    }
    sqlite3_finalize(s);
    return rows;
  }

 private:
  sqlite3* db_ = nullptr;
};

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ledger_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/spend.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::int64_t Count() { return Db(path_).Int("SELECT COUNT(*) FROM requests"); }

  std::string dir_;
  std::string path_;
};

TEST_F(LedgerTest, RowsSurviveCloseAndReopenWithEveryFieldIntact) {
  LedgerRow full;
  full.time_ms = kNov1 + 123;
  full.request_id = "chatcmpl-1";
  full.key_id = "key-a";
  full.tenant = "acme";
  full.profile = "auto";
  full.upstream = "openai";
  full.model = "gpt-4o-mini \xe2\x9c\x93";
  full.tier = 2;
  full.score = 0.625;
  full.prompt_tokens = 1234;
  full.cached_tokens = 1000;
  full.completion_tokens = 567;
  full.reasoning_tokens = 89;
  full.usage_source = UsageSource::kEstimated;
  full.cost_nano_usd = 9'000'000'000'000'000'000;
  full.baseline_cost_nano_usd = 42;
  full.duration_ms = 812.5;
  full.ttft_ms = 95.25;
  full.status = 200;
  LedgerRow failed;  // defaults: empty strings, score -1, ttft -1, no usage
  failed.status = 502;
  failed.error_kind = "upstream_unavailable";
  {
    auto ledger = Ledger::Open(path_, hours(1));
    ledger->Append(full);
    ledger->Append(failed);
    ledger->Close();
    EXPECT_EQ(ledger->rows_written(), 2u);
    ledger->Close();  // idempotent
  }
  Ledger::Open(path_, hours(1))->Close();  // reopening an existing ledger keeps it
  const std::vector<LedgerRow> rows = Db(path_).Rows();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(Fields(rows[0]), Fields(full));
  EXPECT_EQ(Fields(rows[1]), Fields(failed));
  EXPECT_EQ(Db(path_).Int("PRAGMA user_version"), 2);
  EXPECT_EQ(Db(path_).Int("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

TEST_F(LedgerTest, ABatchInsertedManyRowsAtATimeKeepsEveryFieldOfEveryRowInOrder) {
  // 37 rows: two statements of several rows each, then rows one at a time.
  std::vector<LedgerRow> sent;
  for (int i = 0; i < 37; ++i) {
    LedgerRow r;
    r.time_ms = kNov1 + 1000 - i;
    r.request_id = "req-" + std::to_string(i);
    r.key_id = "key-" + std::to_string(i % 3);
    r.tenant = "tenant-" + std::to_string(i % 4);
    r.profile = i % 2 ? "auto" : "";
    r.upstream = "up-" + std::to_string(i % 5);
    r.model = "model-" + std::to_string(i);
    r.tier = i % 3 + 1;
    r.score = i / 64.0;
    r.prompt_tokens = 100 + i;
    r.cached_tokens = i;
    r.completion_tokens = 200 + i;
    r.reasoning_tokens = 2 * i;
    r.usage_source = static_cast<UsageSource>(i % 3);
    r.cost_nano_usd = 1'000 * i + 7;
    r.baseline_cost_nano_usd = 3'000 * i;
    r.duration_ms = 10.5 + i;
    r.ttft_ms = i % 2 ? -1 : 2.25 * i;
    r.status = i % 7 ? 200 : 502;
    r.error_kind = i % 7 ? "" : "upstream_reset";
    sent.push_back(r);
  }
  auto ledger = Ledger::Open(path_, hours(1));
  for (const LedgerRow& r : sent) ledger->Append(r);
  ledger->Flush();
  const std::vector<LedgerRow> rows = Db(path_).Rows();
  ASSERT_EQ(rows.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(Fields(rows[i]), Fields(sent[i])) << i;
}

TEST_F(LedgerTest, AThousandRowsWaitingAreCommittedBeforeTheIntervalEnds) {
  auto ledger = Ledger::Open(path_, hours(1));
  for (int i = 0; i < 1023; ++i) ledger->Append(Row(kNov1 + i, "k", "t", "m", "u", 1));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(ledger->rows_written(), 0u);  // below the batch size: the interval is an hour
  ledger->Append(Row(kNov1, "k", "t", "m", "u", 1));
  for (int i = 0; i < 2000 && ledger->rows_written() == 0; ++i)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ledger->rows_written(), 1024u);
  EXPECT_EQ(Count(), 1024);
}

TEST_F(LedgerTest, FlushMakesRowsVisibleToASecondConnection) {
  auto ledger = Ledger::Open(path_, hours(1));
  for (int i = 0; i < 5; ++i) ledger->Append(Row(kNov1 + i, "k", "t", "m", "u", 10));
  EXPECT_EQ(Count(), 0);  // still queued: the interval is an hour
  ledger->Flush();
  EXPECT_EQ(Count(), 5);
  EXPECT_EQ(ledger->rows_written(), 5u);
  // Reports read beside the open writer.
  const auto lines = Ledger::Spend(path_, SpendGroupBy::kModel, 0);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].requests, 5);
}

TEST_F(LedgerTest, TheWriterCommitsEachIntervalWithoutFlush) {
  auto ledger = Ledger::Open(path_, milliseconds(5));
  ledger->Append(Row(kNov1, "k", "t", "m", "u", 10));
  for (int i = 0; i < 2000 && ledger->rows_written() == 0; ++i)
    std::this_thread::sleep_for(milliseconds(5));
  EXPECT_EQ(ledger->rows_written(), 1u);
  EXPECT_EQ(Count(), 1);
}

TEST_F(LedgerTest, AnAbandonedLedgerKeepsTheRowsItFlushed) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Like a crash: no Close, no destructor, no atexit.
    auto ledger = Ledger::Open(path_, hours(1));
    for (int i = 0; i < 10; ++i) ledger->Append(Row(kNov1 + i, "k", "t", "m", "u", 7));
    ledger->Flush();
    for (int i = 0; i < 5; ++i) ledger->Append(Row(kNov1 + 100 + i, "k", "t", "m", "u", 7));
    ::_exit(ledger->rows_written() == 10 ? 0 : 3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(Count(), 10);  // the unflushed five went with the process
  EXPECT_EQ(Db(path_).Int("SELECT SUM(cost_nano_usd) FROM requests"), 70);
}

TEST_F(LedgerTest, EightThreadsAppendingGiveEveryRowInOrderAndTheExactCostSum) {
  constexpr int kThreads = 8, kPerThread = 2000;
  auto ledger = Ledger::Open(path_, milliseconds(2));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        LedgerRow r = Row(i, "key-" + std::to_string(t), "t", "m", "u", 1'000'003 * t + i);
        if (i % 500 == 0) ledger->Flush();
        ledger->Append(std::move(r));
      }
    });
  }
  for (auto& th : threads) th.join();
  ledger->Close();
  std::int64_t expected = 0;
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) expected += 1'000'003 * t + i;
  EXPECT_EQ(ledger->rows_written(), 16'000u);
  EXPECT_EQ(ledger->write_errors(), 0u);
  Db db(path_);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM requests"), 16'000);
  EXPECT_EQ(db.Int("SELECT SUM(cost_nano_usd) FROM requests"), expected);
  // Each thread's rows were committed in the order it appended them.
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM requests a JOIN requests b ON a.key_id = b.key_id "
                   "AND a.rowid < b.rowid AND a.time_ms > b.time_ms"),
            0);
}

TEST_F(LedgerTest, ALockedDatabaseCountsWriteErrorsKeepsRowsAndCommitsThemLater) {
  auto ledger = Ledger::Open(path_, hours(1));
  ledger->Append(Row(kNov1 + 1, "k", "t", "m", "u", 1));
  ledger->Flush();
  Db blocker(path_);
  blocker.Exec("BEGIN EXCLUSIVE");  // holds the write lock past the ledger's busy timeout
  ledger->Append(Row(kNov1 + 2, "k", "t", "m", "u", 2));
  ledger->Append(Row(kNov1 + 3, "k", "t", "m", "u", 3));
  ledger->Flush();  // returns once the attempt failed
  EXPECT_GE(ledger->write_errors(), 1u);
  EXPECT_EQ(ledger->rows_written(), 1u);
  blocker.Exec("ROLLBACK");
  const std::uint64_t errors = ledger->write_errors();
  ledger->Append(Row(kNov1 + 4, "k", "t", "m", "u", 4));
  ledger->Flush();
  EXPECT_EQ(ledger->rows_written(), 4u);
  EXPECT_EQ(ledger->write_errors(), errors);
  std::vector<std::int64_t> costs;
  for (const LedgerRow& r : Db(path_).Rows()) costs.push_back(r.cost_nano_usd);
  EXPECT_EQ(costs, (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(LedgerTest, AFullDiskCountsWriteErrorsKeepsRowsAndCommitsThemOnceThereIsRoom) {
  // A file size limit fails writes like a full disk, even for root. In a child, as it is
  // process-wide.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of the signal
    auto ledger = Ledger::Open(path_, hours(1));
    ledger->Append(Row(kNov1, "k", "t", "m", "u", 1));
    ledger->Flush();
    rlimit limit{};
    ::getrlimit(RLIMIT_FSIZE, &limit);
    const rlimit original = limit;
    limit.rlim_cur = 64 * 1024;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    for (int i = 0; i < 2000; ++i) {
      LedgerRow r = Row(kNov1 + 1 + i, "k", "t", "m", "u", 1);
      r.error_kind.assign(500, 'x');  // about 1 MB in all
      ledger->Append(std::move(r));
    }
    ledger->Flush();
    if (ledger->write_errors() == 0 || ledger->rows_written() != 1) ::_exit(3);
    ::setrlimit(RLIMIT_FSIZE, &original);
    ledger->Flush();
    if (ledger->rows_written() != 2001) ::_exit(4);
    ledger->Close();
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(Count(), 2001);
}

TEST_F(LedgerTest, AppendsAfterCloseAreCommittedAtOnce) {
  auto ledger = Ledger::Open(path_, hours(1));
  ledger->Close();
  ledger->Append(Row(kNov1, "k", "t", "m", "u", 5));
  EXPECT_EQ(ledger->rows_written(), 1u);
  EXPECT_EQ(Count(), 1);
  ledger->Flush();  // nothing left, returns at once
}

TEST_F(LedgerTest, TheDestructorCommitsQueuedRows) {
  Ledger::Open(path_, hours(1))->Append(Row(kNov1, "k", "t", "m", "u", 5));
  EXPECT_EQ(Count(), 1);
}

TEST_F(LedgerTest, OpenFailsWithThePathInTheMessage) {
  try {
    Ledger::Open(dir_ + "/missing/dir/spend.db", hours(1));
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/dir/spend.db"), std::string::npos) << e.what();
  }
}

using GroupCosts = std::vector<std::pair<std::string, std::int64_t>>;

// A small ledger for the reports: two days, two keys and tenants, open-mode rows.
class SpendTest : public LedgerTest {
 protected:
  void SetUp() override {
    LedgerTest::SetUp();
    auto ledger = Ledger::Open(path_, hours(1));
    ledger->Append(Row(kNov1 - 1, "old", "old", "old", "old", 1'000'000));  // Oct 31, 23:59:59.999
    ledger->Append(Row(kNov1, "k1", "acme", "small", "edge", 100, 1000));
    ledger->Append(Row(kNov1 + 10, "k1", "acme", "large", "cloud", 500, 500));
    ledger->Append(Row(kNov1 + kDay, "k2", "beta", "large", "cloud", 700, 700));
    ledger->Append(Row(kNov1 + kDay + 5, "", "", "small", "edge", 100, 1000));
    ledger->Close();
  }
  GroupCosts Costs(SpendGroupBy by, std::int64_t since) {
    GroupCosts out;
    for (const SpendLine& l : Ledger::Spend(path_, by, since))
      out.emplace_back(l.group, l.cost_nano_usd);
    return out;
  }
};

TEST_F(SpendTest, GroupsByEachKindLargestCostFirstFromSince) {
  EXPECT_EQ(Costs(SpendGroupBy::kKey, kNov1), (GroupCosts{{"k2", 700}, {"k1", 600}, {"", 100}}));
  EXPECT_EQ(Costs(SpendGroupBy::kTenant, kNov1),
            (GroupCosts{{"beta", 700}, {"acme", 600}, {"", 100}}));
  EXPECT_EQ(Costs(SpendGroupBy::kModel, kNov1), (GroupCosts{{"large", 1200}, {"small", 200}}));
  EXPECT_EQ(Costs(SpendGroupBy::kUpstream, kNov1), (GroupCosts{{"cloud", 1200}, {"edge", 200}}));
  EXPECT_EQ(Costs(SpendGroupBy::kDay, 0),
            (GroupCosts{{"2026-10-31", 1'000'000}, {"2026-11-02", 800}, {"2026-11-01", 600}}));
  EXPECT_EQ(Costs(SpendGroupBy::kDay, kNov1 + kDay), (GroupCosts{{"2026-11-02", 800}}));
  EXPECT_TRUE(Costs(SpendGroupBy::kModel, kNov1 + 2 * kDay).empty());
}

TEST_F(SpendTest, SumsEveryFigureOfAGroup) {
  const auto lines = Ledger::Spend(path_, SpendGroupBy::kModel, kNov1);
  ASSERT_EQ(lines.size(), 2u);
  const SpendLine& small = lines[1];
  EXPECT_EQ(small.group, "small");
  EXPECT_EQ(small.requests, 2);
  EXPECT_EQ(small.prompt_tokens, 200);
  EXPECT_EQ(small.cached_tokens, 20);
  EXPECT_EQ(small.completion_tokens, 40);
  EXPECT_EQ(small.reasoning_tokens, 10);
  EXPECT_EQ(small.baseline_cost_nano_usd, 2000);
}

TEST_F(SpendTest, CostSinceGivesCostPerKeyAndTenantWithoutEmptyIds) {
  const Ledger::Totals totals = Ledger::CostSince(path_, kNov1);
  EXPECT_EQ(totals.by_key, (GroupCosts{{"k1", 600}, {"k2", 700}}));
  EXPECT_EQ(totals.by_tenant, (GroupCosts{{"acme", 600}, {"beta", 700}}));
  EXPECT_EQ(Ledger::CostSince(path_, 0).by_key.size(), 3u);  // "old" too
}

TEST_F(SpendTest, CostSinceInsideADayCountsThatDaysRowsFromThen) {
  // Nov 1 from 00:00:00.005 on: k1's 500 at +10 ms, not its 100 at midnight; Nov 2 whole.
  const Ledger::Totals totals = Ledger::CostSince(path_, kNov1 + 5);
  EXPECT_EQ(totals.by_key, (GroupCosts{{"k1", 500}, {"k2", 700}}));
  EXPECT_EQ(totals.by_tenant, (GroupCosts{{"acme", 500}, {"beta", 700}}));
}

TEST_F(LedgerTest, TheDailyRollupAddsUpToTheRowsOverManyBatches) {
  {
    auto ledger = Ledger::Open(path_, hours(1));
    for (int batch = 0; batch < 20; ++batch) {
      for (int i = 0; i < 50; ++i) {
        const std::int64_t t = kNov1 + (batch * 50 + i) * (kDay / 300);  // over three days
        const std::string key[] = {"k0", "k1", "k2"}, tenant[] = {"t0", "t1"};
        ledger->Append(Row(t, key[i % 3], tenant[i % 2], "m", "u", i + 1));
      }
      ledger->Flush();  // one commit, with its upserts, per batch
    }
  }
  Db db(path_);
  for (const char* column : {"key_id", "tenant"}) {
    std::int64_t from_rows = 0;
    for (const auto& [id, cost] : column == std::string("key_id") ? Ledger::CostSince(path_, kNov1).by_key
                                                                    : Ledger::CostSince(path_, kNov1).by_tenant) {
      EXPECT_EQ(cost, db.Int(fmt::format("SELECT SUM(cost_nano_usd) FROM requests WHERE {} = '{}'",
                                         column, id)))
          << column << " " << id;
      from_rows += cost;
    }
    EXPECT_EQ(from_rows, db.Int("SELECT SUM(cost_nano_usd) FROM requests"));
  }
  EXPECT_EQ(db.Int("SELECT COUNT(DISTINCT day_ms) FROM spend_by_day"), 4);  // days 0..3
}

TEST_F(LedgerTest, AVersion1LedgerIsUpgradedWithItsRollup) {
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    sqlite3_close(raw);  // created: Db opens existing files only
    Db db(path_);
    db.Exec(R"sql(
      PRAGMA journal_mode=WAL;
      CREATE TABLE requests (time_ms INTEGER NOT NULL, request_id TEXT NOT NULL,
        key_id TEXT NOT NULL, tenant TEXT NOT NULL, profile TEXT NOT NULL,
        upstream TEXT NOT NULL, model TEXT NOT NULL, tier INTEGER NOT NULL, score REAL NOT NULL,
        prompt_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL, reasoning_tokens INTEGER NOT NULL,
        usage_source TEXT NOT NULL, cost_nano_usd INTEGER NOT NULL,
        baseline_cost_nano_usd INTEGER NOT NULL, duration_ms REAL NOT NULL,
        ttft_ms REAL NOT NULL, status INTEGER NOT NULL, error_kind TEXT NOT NULL);
      CREATE INDEX requests_by_time ON requests (time_ms);
      CREATE INDEX requests_by_key ON requests (key_id, time_ms, cost_nano_usd);
      CREATE INDEX requests_by_tenant ON requests (tenant, time_ms, cost_nano_usd);
      INSERT INTO requests VALUES (1793491200000, 'r1', 'k1', 'acme', '', 'u', 'm', 1, 0,
        1, 0, 1, 0, 'reported', 300, 0, 1, 1, 200, '');
      INSERT INTO requests VALUES (1793491200001, 'r2', 'k1', 'acme', '', 'u', 'm', 1, 0,
        1, 0, 1, 0, 'reported', 200, 0, 1, 1, 200, '');
      INSERT INTO requests VALUES (1793491200002, 'r3', '', '', '', 'u', 'm', 1, 0,
        1, 0, 1, 0, 'reported', 999, 0, 1, 1, 200, '');
      PRAGMA user_version=1;)sql");
  }
  auto ledger = Ledger::Open(path_, hours(1));
  ledger->Append(Row(kNov1 + 5, "k1", "acme", "m", "u", 50));
  ledger->Close();
  Db db(path_);
  EXPECT_EQ(db.Int("PRAGMA user_version"), 2);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM requests"), 4);
  EXPECT_EQ(db.Int("SELECT COUNT(*) FROM sqlite_master WHERE name IN "
                   "('requests_by_key', 'requests_by_tenant')"),
            0);
  EXPECT_EQ(Ledger::CostSince(path_, kNov1).by_key, (GroupCosts{{"k1", 550}}));
  EXPECT_EQ(Ledger::CostSince(path_, kNov1).by_tenant, (GroupCosts{{"acme", 550}}));
}

TEST_F(SpendTest, ReportsOnAMissingFileThrowAndDoNotCreateIt) {
  EXPECT_THROW(Ledger::Spend(dir_ + "/nope.db", SpendGroupBy::kKey, 0), std::runtime_error);
  EXPECT_THROW(Ledger::CostSince(dir_ + "/nope.db", 0), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nope.db"));
}

TEST_F(SpendTest, TheSpendCommandPrintsTheJsonOfTheEndpoint) {
  std::string out, err;
  SpendOptions o{path_, "tenant", "1d", true};
  ASSERT_EQ(RunSpend(o, kNov1 + kDay, &out, &err), 0) << err;
  EXPECT_EQ(out, SpendJson(Ledger::Spend(path_, SpendGroupBy::kTenant, kNov1),
                           SpendGroupBy::kTenant, kNov1) +
                     "\n");
  o.json = false;
  ASSERT_EQ(RunSpend(o, kNov1 + kDay, &out, &err), 0) << err;
  EXPECT_EQ(out.substr(0, 6), "TENANT");
}

TEST_F(SpendTest, TheSpendCommandRejectsBadArgumentsAndMissingFiles) {
  std::string out, err;
  EXPECT_EQ(RunSpend({path_, "user", "", false}, 0, &out, &err), 2);
  EXPECT_NE(err.find("--by"), std::string::npos) << err;
  EXPECT_EQ(RunSpend({path_, "key", "yesterday", false}, 0, &out, &err), 2);
  EXPECT_NE(err.find("--since"), std::string::npos) << err;
  EXPECT_EQ(RunSpend({dir_ + "/nope.db", "key", "", false}, 0, &out, &err), 1);
  EXPECT_NE(err.find("nope.db"), std::string::npos) << err;
}

TEST(SpendReportTest, ParsesGroupBy) {
  SpendGroupBy by = SpendGroupBy::kModel;
  EXPECT_TRUE(ParseGroupBy("key", &by));
  EXPECT_EQ(by, SpendGroupBy::kKey);
  EXPECT_TRUE(ParseGroupBy("day", &by));
  EXPECT_EQ(by, SpendGroupBy::kDay);
  for (auto name : {"tenant", "model", "upstream"}) {
    EXPECT_TRUE(ParseGroupBy(name, &by));
    EXPECT_STREQ(GroupByName(by), name);
  }
  EXPECT_FALSE(ParseGroupBy("", &by));
  EXPECT_FALSE(ParseGroupBy("Model", &by));
  EXPECT_FALSE(ParseGroupBy("key_id", &by));
}

TEST(SpendReportTest, ParsesDatesTimesAndSpansBackFromNow) {
  const std::int64_t now = kNov1 + 12 * 3'600'000;
  std::int64_t since = -1;
  EXPECT_TRUE(ParseSince("", now, &since));
  EXPECT_EQ(since, 0);
  EXPECT_TRUE(ParseSince("2026-11-01", now, &since));
  EXPECT_EQ(since, kNov1);
  EXPECT_TRUE(ParseSince("2026-11-01T12:00:00Z", now, &since));
  EXPECT_EQ(since, kNov1 + 12 * 3'600'000);
  EXPECT_TRUE(ParseSince("2024-02-29", now, &since));
  EXPECT_EQ(since, 1'709'164'800'000);
  EXPECT_TRUE(ParseSince("30m", now, &since));
  EXPECT_EQ(since, now - 30 * 60'000);
  EXPECT_TRUE(ParseSince("24h", now, &since));
  EXPECT_EQ(since, now - kDay);
  EXPECT_TRUE(ParseSince("7d", now, &since));
  EXPECT_EQ(since, now - 7 * kDay);
  EXPECT_TRUE(ParseSince("999999999d", now, &since));
  EXPECT_EQ(since, 0);  // clamped
  since = 5;
  for (auto bad :
       {"2026-13-01", "2025-02-29", "2026-11-1", "2026-11-01T24:00:00Z", "2026-11-01T12:00:00",
        "2026-11-01 12:00:00Z", "d", "-7d", "7", "7w", "1.5h", "1234567890d", "yesterday"}) {
    EXPECT_FALSE(ParseSince(bad, now, &since)) << bad;
  }
  EXPECT_EQ(since, 5);
}

TEST(SpendReportTest, FormatsNanoUsdAndTimesExactly) {
  EXPECT_EQ(FormatUsd(0), "0.000000000");
  EXPECT_EQ(FormatUsd(1'234'500), "0.001234500");
  EXPECT_EQ(FormatUsd(-1), "-0.000000001");
  EXPECT_EQ(FormatUsd(2'500'000'000), "2.500000000");
  EXPECT_EQ(FormatUsd(INT64_MIN), "-9223372036.854775808");
  EXPECT_EQ(IsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(IsoUtc(kNov1 + 12 * 3'600'000 + 250), "2026-11-01T12:00:00.250Z");
}

std::vector<SpendLine> SampleLines() {
  return {{"gpt-4o", 2, 1000, 200, 300, 0, 1'234'500, 5'000'000},
          {"", 1, 10, 0, 5, 5, 10, 10},
          {"we\"ird\\\n\x01\xff", 1, 1, 1, 1, 1, 20, 10}};
}

TEST(SpendReportTest, TableAlignsColumnsAndAddsATotal) {
  std::vector<SpendLine> lines = SampleLines();
  lines[2].group = "mod\xc3\xa8le\n";  // two bytes, one column; the newline must not break lines
  EXPECT_EQ(SpendTable(lines, SpendGroupBy::kModel),
            // clang-format off
            "MODEL    REQUESTS  PROMPT  CACHED"
            "  COMPLETION  REASONING     COST_USD  BASELINE_USD   SAVINGS_USD\n"
            "gpt-4o          2    1000     200"
            "         300          0  0.001234500   0.005000000   0.003765500\n"
            "(none)          1      10       0"
            "           5          5  0.000000010   0.000000010   0.000000000\n"
            "mod\xc3\xa8le?         1       1       1"
            "           1          1  0.000000020   0.000000010  -0.000000010\n"
            "TOTAL           4    1011     201"
            "         306          6  0.001234530   0.005000020   0.003765490\n");
  // clang-format on
}

TEST(SpendReportTest, JsonHasExactAmountsAndEscapedGroups) {
  EXPECT_EQ(SpendJson(SampleLines(), SpendGroupBy::kModel, kNov1),
            R"({"object":"spend","group_by":"model","since":"2026-11-01T00:00:00Z","data":[)"
            R"({"group":"gpt-4o","requests":2,"prompt_tokens":1000,"cached_tokens":200,)"
            R"("completion_tokens":300,"reasoning_tokens":0,"cost_usd":"0.001234500",)"
            R"("baseline_cost_usd":"0.005000000","savings_usd":"0.003765500"},)"
            R"({"group":"","requests":1,"prompt_tokens":10,"cached_tokens":0,)"
            R"("completion_tokens":5,"reasoning_tokens":5,"cost_usd":"0.000000010",)"
            R"("baseline_cost_usd":"0.000000010","savings_usd":"0.000000000"},)"
            R"({"group":"we\"ird\\\n\u0001\ufffd","requests":1,"prompt_tokens":1,)"
            R"("cached_tokens":1,"completion_tokens":1,"reasoning_tokens":1,)"
            R"("cost_usd":"0.000000020","baseline_cost_usd":"0.000000010",)"
            R"("savings_usd":"-0.000000010"}],)"
            R"("total":{"requests":4,"prompt_tokens":1011,"cached_tokens":201,)"
            R"("completion_tokens":306,"reasoning_tokens":6,"cost_usd":"0.001234530",)"
            R"("baseline_cost_usd":"0.005000020","savings_usd":"0.003765490"}})");
  EXPECT_EQ(SpendJson({}, SpendGroupBy::kDay, 0),
            R"({"object":"spend","group_by":"day","since":"1970-01-01T00:00:00Z","data":[],)"
            R"("total":{"requests":0,"prompt_tokens":0,"cached_tokens":0,"completion_tokens":0,)"
            R"("reasoning_tokens":0,"cost_usd":"0.000000000","baseline_cost_usd":"0.000000000",)"
            R"("savings_usd":"0.000000000"}})");
}

}  // namespace
}  // namespace switchyard::accounting
