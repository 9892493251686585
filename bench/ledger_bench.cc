// Micro-benchmark of the ledger writer (proxy/accounting/ledger.h): rows appended then
// committed in one transaction per batch of 1,000 (what the writer thread does every flush
// interval under load), on a real SQLite file in WAL mode; timed by the wall clock, since
// the work happens on the writer thread. Arg 1 adds back the two covering
// indexes the schema had before the daily rollup, for a side-by-side comparison.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "proxy/accounting/ledger.h"

namespace {

using namespace switchyard::accounting;

LedgerRow TypicalRow(std::int64_t i) {
  LedgerRow r;
  r.time_ms = 1'793'491'200'000 + i;
  r.request_id = "req-" + std::to_string(i);
  r.key_id = "key-" + std::to_string(i % 20);
  r.tenant = "tenant-" + std::to_string(i % 5);
  r.profile = "auto";
  r.upstream = "openai";
  r.model = "gpt-4o-mini";
  r.tier = 2;
  r.score = 0.42;
  r.prompt_tokens = 812;
  r.completion_tokens = 131;
  r.usage_source = UsageSource::kReported;
  r.cost_nano_usd = 200'000;
  r.baseline_cost_nano_usd = 3'400'000;
  r.duration_ms = 812.5;
  r.ttft_ms = 201.2;
  r.status = 200;
  return r;
}

void BM_LedgerCommit(benchmark::State& state) {
  const std::string path = "/tmp/switchyard-ledger-bench-" + std::to_string(::getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  auto ledger = Ledger::Open(path, std::chrono::hours(1));
  if (state.range(0)) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "CREATE INDEX requests_by_key ON requests (key_id, time_ms, cost_nano_usd);"
                 "CREATE INDEX requests_by_tenant ON requests (tenant, time_ms, cost_nano_usd);",
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  constexpr int kBatch = 1000;
  std::int64_t i = 0;
  for (auto _ : state) {
    for (int n = 0; n < kBatch; ++n) ledger->Append(TypicalRow(i++));
    ledger->Flush();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  ledger->Close();
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}
BENCHMARK(BM_LedgerCommit)->Arg(0)->Arg(1)->ArgName("covering_indexes")->Unit(benchmark::kMillisecond)->UseRealTime()
    ->MinTime(2);

}  // namespace

BENCHMARK_MAIN();
