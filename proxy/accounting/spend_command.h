// `switchyard spend --db FILE [--by key|tenant|model|upstream|day] [--since T] [--json]`:
// spend totals from a ledger file, as a table or as the JSON GET /v1/spend returns. It opens
// its own read-only connection, so it can run beside a serving proxy. The command runs from the
// subcommand's callback during app.parse() and throws CLI::RuntimeError(exit code) on failure.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace switchyard::accounting {

struct SpendOptions {
  std::string db_path;
  std::string by = "model";  // a GroupByName()
  std::string since;         // a ParseSince() argument; "" = everything
  bool json = false;
};

// The command without the CLI: the report goes to *out, one error line to *err. Returns the
// exit code: 0, 1 when the ledger cannot be read, 2 for a bad --by or --since.
int RunSpend(const SpendOptions& options, std::int64_t now_ms, std::string* out, std::string* err);

void AddSpendCommand(CLI::App& app);

}  // namespace switchyard::accounting
