#include "proxy/accounting/spend_command.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>

#include "proxy/accounting/ledger.h"
#include "proxy/accounting/spend_report.h"

namespace switchyard::accounting {

int RunSpend(const SpendOptions& options, std::int64_t now_ms, std::string* out, std::string* err) {
  SpendGroupBy by = SpendGroupBy::kModel;
  if (!ParseGroupBy(options.by, &by)) {
    *err = fmt::format(
        "switchyard spend: --by must be key, tenant, model, upstream or day, not '{}'\n",
        options.by);
    return 2;
  }
  std::int64_t since_ms = 0;
  if (!ParseSince(options.since, now_ms, &since_ms)) {
    *err = fmt::format(
        "switchyard spend: --since must be a UTC date (2026-11-01), a UTC time "
        "(2026-11-01T12:00:00Z) or a span back from now (30m, 24h, 7d), not '{}'\n",
        options.since);
    return 2;
  }
  try {
    const std::vector<SpendLine> lines = Ledger::Spend(options.db_path, by, since_ms);
    *out = options.json ? SpendJson(lines, by, since_ms) + "\n" : SpendTable(lines, by);
  } catch (const std::exception& e) {
    *err = fmt::format("switchyard spend: {}\n", e.what());
    return 1;
  }
  return 0;
}

void AddSpendCommand(CLI::App& app) {
  auto o = std::make_shared<SpendOptions>();
  auto* spend = app.add_subcommand("spend",
                                   "Report spend per key, tenant, model, upstream or day "
                                   "from the ledger file");
  spend->add_option("--db", o->db_path, "Ledger file (SQLite)")->required();
  spend->add_option("--by", o->by, "Group by: key, tenant, model, upstream or day")
      ->capture_default_str();
  spend->add_option("--since", o->since,
                    "Start: 2026-11-01, 2026-11-01T12:00:00Z (UTC) or 30m, 24h, 7d back from now "
                    "(default: everything)");
  spend->add_flag("--json", o->json, "Print the JSON that GET /v1/spend returns");
  spend->callback([o] {
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    std::string out, err;
    const int rc = RunSpend(*o, now_ms, &out, &err);
    std::fputs(out.c_str(), stdout);
    std::fputs(err.c_str(), stderr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace switchyard::accounting
