// `switchyard demo`: simulated upstreams (in-process mock servers for an edge model, a
// self-hosted server and two cloud tiers), the proxy on 127.0.0.1, a built-in mixed workload
// sent through `model: "auto"`, and a report of spend per model against sending everything to
// the strongest model. RunDemo blocks; call it from one thread at a time.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace switchyard {

struct DemoOptions {
  int port = 8080;          // the proxy's; 0 picks one
  bool once = false;        // exit after the report instead of serving until SIGINT/SIGTERM
  int requests = 48;        // workload size; the built-in items are cycled
  int concurrency = 4;      // client threads, each with one keep-alive connection
  std::string config_path;  // "" = DefaultDemoConfigPath()
  std::FILE* out = stdout;  // where the report and hints go (nullptr: nowhere)
};

struct DemoModelRow {
  std::string model;
  std::string kind;  // cloud, edge, self-hosted
  int tier = 0;
  int requests = 0;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  double spend_usd = 0;
  double p50_ms = 0;
};

struct DemoWorkloadRow {
  std::string kind;  // greeting, extraction, summary, code, math, multi-turn, ...
  int requests = 0;
  double mean_score = 0;
  std::vector<std::pair<std::string, int>> models;  // model -> requests, by config order
};

struct DemoReport {
  std::string config_path;
  uint16_t port = 0;
  int requests = 0;
  int succeeded = 0;
  int streamed = 0;
  std::vector<std::string> failures;  // one line per failed request
  std::vector<DemoModelRow> models;   // every routable model of the config, config order
  std::vector<DemoWorkloadRow> workloads;
  std::string reference_model;  // the strongest model: highest tier, then price
  double spend_usd = 0;
  double reference_spend_usd = 0;  // the same tokens at the reference model's prices
  double savings_percent = 0;
  double p50_ms = 0, p99_ms = 0;  // end to end, as the client saw it
  double wall_seconds = 0;
  std::string ledger_path;  // where every request's row went; "" when the ledger is off
};

// config/examples/demo.yaml in the source tree this binary was built from.
std::string DefaultDemoConfigPath();

// Starts the mocks and the proxy, runs the workload, prints the report (and, unless `once`,
// hints, then serves until SIGINT/SIGTERM). Throws config::ConfigError for a bad config and
// std::exception for other start-up failures (a port in use, ...).
DemoReport RunDemo(const DemoOptions& options);

std::string FormatDemoReport(const DemoReport& report);

// Registers `switchyard demo [--port N] [--once] [--requests N] [--concurrency N]
// [--config FILE]`; it runs from the subcommand's callback during app.parse() and throws
// CLI::RuntimeError(exit code) on failure.
void AddDemoCommand(CLI::App& app);

}  // namespace switchyard
