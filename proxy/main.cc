// The switchyard command: `serve` runs the proxy (SIGHUP reloads its config file),
// `check-config` validates a config file;
// `train`, `eval` and `classify` come from classifiers/; `demo` from proxy/demo.h.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "classifiers/commands.h"
#include "classifiers/model_io.h"
#include "config/config_loader.h"
#include "proxy/accounting/spend_command.h"
#include "proxy/demo.h"
#include "proxy/runtime.h"
#include "proxy/server.h"

namespace {

using switchyard::config::Config;
using switchyard::config::ConfigError;

void PrintProblems(const std::string& path, const ConfigError& e) {
  fmt::print(stderr, "{}: {} problem{}:\n", path, e.problems().size(),
             e.problems().size() == 1 ? "" : "s");
  for (const auto& p : e.problems()) fmt::print(stderr, "  {}\n", p);
}

int OpenAccessLog(const std::string& where) {
  if (where == "-" || where == "stdout") return STDOUT_FILENO;
  if (where == "off") return -1;
  int fd = ::open(where.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open access log {}", where));
  return fd;
}

struct ServeOptions {
  std::string config_path;
  int port = -1;
  int threads = 0;
  std::string access_log = "-";
  std::string classifier;  // model file; "" = the committed one, embedded
};

void WarnInsecure(const Config& config) {
  for (const auto& u : config.upstreams)
    if (u.insecure_skip_verify)
      fmt::print(stderr,
                 "warning: upstream '{}' has insecure_skip_verify: its TLS certificate is NOT "
                 "verified\n",
                 u.name);
}

// What a reload cannot change: the listening socket, the worker threads and the ledger stay
// as the process started them.
void KeepStartupSettings(const Config& running, Config& next) {
  const auto& was = running.listener;
  auto& now = next.listener;
  if (now.address != was.address || now.port != was.port || now.threads != was.threads ||
      next.accounting.ledger != running.accounting.ledger ||
      next.accounting.flush_interval != running.accounting.flush_interval)
    fmt::print(stderr,
               "warning: listen address, port and threads and the ledger settings take effect "
               "at the next restart, not on reload\n");
  now.address = was.address;
  now.port = was.port;
  now.threads = was.threads;
  next.accounting.ledger = running.accounting.ledger;
  next.accounting.flush_interval = running.accounting.flush_interval;
}

// SIGHUP: the file is read and checked whole; a bad one changes nothing.
std::shared_ptr<const switchyard::Runtime> ReloadConfig(const std::string& path, int port_override,
                                                        const switchyard::Runtime& current) {
  Config config;
  try {
    config = switchyard::config::LoadConfigFile(path);
    if (port_override >= 0) config.listener.port = static_cast<uint16_t>(port_override);
  } catch (const ConfigError& e) {
    fmt::print(stderr, "switchyard: reload rejected, still serving the previous config\n");
    PrintProblems(path, e);
    return nullptr;
  }
  KeepStartupSettings(current.config(), config);
  if (!config.budgets.empty() && config.accounting.ledger == "off") {
    fmt::print(stderr,
               "switchyard: reload rejected, still serving the previous config: budgets need the "
               "ledger, which this process runs without (restart to turn it on)\n");
    return nullptr;
  }
  WarnInsecure(config);
  return switchyard::Runtime::Build(std::move(config), nullptr, &current);
}

int Serve(const ServeOptions& o) {
  const std::string& config_path = o.config_path;
  const int port = o.port;
  const int threads = o.threads;
  const std::string& access_log = o.access_log;
  Config config = switchyard::config::LoadConfigFile(config_path);
  if (port >= 0) config.listener.port = static_cast<uint16_t>(port);
  WarnInsecure(config);
  std::shared_ptr<const switchyard::classifiers::Model> classifier;
  if (!o.classifier.empty()) {
    const auto status = switchyard::classifiers::LoadModel(o.classifier, &classifier);
    if (!status.ok()) throw std::runtime_error("cannot load the classifier model: " + status.message());
  }
  auto runtime = switchyard::Runtime::Build(std::move(config), std::move(classifier));
  switchyard::ServerOptions options;
  options.threads = threads;
  options.access_log_fd = OpenAccessLog(access_log);
  options.reload = [config_path, port](const switchyard::Runtime& current) {
    return ReloadConfig(config_path, port, current);
  };
  switchyard::Server server(runtime, options);
  server.Run([&] {
    const auto& listener = runtime->config().listener;
    fmt::print(stderr,
               "switchyard listening on http://{}:{} ({} workers, {} models, {} upstreams; "
               "SIGHUP reloads the config)\n",
               listener.address, server.port(), server.worker_count(), runtime->models().size(),
               runtime->upstreams().size());
  });
  fmt::print(stderr, "switchyard stopped\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchyard: a cost-aware, OpenAI-compatible LLM router proxy"};
  app.require_subcommand(1);

  ServeOptions so;
  auto* serve = app.add_subcommand("serve", "Run the proxy");
  serve->add_option("-c,--config", so.config_path, "Config file (YAML)")->required();
  serve->add_option("-p,--port", so.port, "Listen port (overrides the config; 0 picks one)");
  serve->add_option("-t,--threads", so.threads, "Worker threads (default: the config's, else cores)");
  serve->add_option("--access-log", so.access_log, "Access log: - (stdout), off, or a file path");
  serve->add_option("--classifier", so.classifier,
                    "Classifier model file (default: the committed model, embedded in the binary)");

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a config file and list every problem");
  check->add_option("file", check_path, "Config file (YAML)")->required();

  switchyard::classifiers::AddCommands(app);  // train, eval, classify
  switchyard::AddDemoCommand(app);
  switchyard::accounting::AddSpendCommand(app);
  CLI11_PARSE(app, argc, argv);
  try {
    if (*serve) return Serve(so);
    if (*check) {
      Config config = switchyard::config::LoadConfigFile(check_path);
      fmt::print("{}: ok ({} upstreams, {} models)\n", check_path, config.upstreams.size(),
                 config.models.size());
      return 0;
    }
  } catch (const ConfigError& e) {
    PrintProblems(*serve ? so.config_path : check_path, e);
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "switchyard: {}\n", e.what());
    return 1;
  }
  return 0;
}
