// switchyard-mock: runs the OpenAI-compatible mock upstream until SIGINT or SIGTERM.
// Prints one line, "switchyard-mock listening on ADDRESS:PORT", once it accepts
// connections (scripts wait for it), and exits 0 on a signal. --random-fault makes it a
// flaky upstream; --dump-requests writes the heads of the last requests it served on exit
// (what a proxy sent upstream, its Authorization header included).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench/mock_upstream.h"

namespace {

// "SHARE:STATUS" or "SHARE:FAULT[,FAULT...]", e.g. "0.02:500" or "0.05:reset-before".
bool ParseRandomFault(const std::string& spec, switchyard::mock::RandomFault* out) {
  const std::size_t colon = spec.find(':');
  if (colon == std::string::npos || colon + 1 == spec.size()) return false;
  try {
    std::size_t used = 0;
    out->share = std::stod(spec.substr(0, colon), &used);
    if (used != colon || !(out->share > 0 && out->share <= 1)) return false;
  } catch (...) {
    return false;
  }
  const std::string what = spec.substr(colon + 1);
  if (what.find_first_not_of("0123456789") == std::string::npos) {
    out->status = static_cast<unsigned>(std::stoul(what.substr(0, 4)));
    return out->status >= 400 && out->status <= 599;
  }
  out->faults = what;
  return true;
}

// "METHOD TARGET", then "name: value" per header (lowercase names), then a blank line.
bool DumpRequests(const std::string& path, const switchyard::mock::MockUpstream& mock) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& r : mock.recorded_requests()) {
    out << r.method << ' ' << r.target << '\n';
    for (const auto& [name, value] : r.headers) out << name << ": " << value << '\n';
    out << '\n';
  }
  return static_cast<bool>(out.flush());
}

}  // namespace

int main(int argc, char** argv) {
  switchyard::mock::MockOptions options;
  options.port = 9101;
  options.max_recorded = 0;  // nobody can read them out of this process
  int latency_ms = 0, ttfb_ms = 0, gap_ms = 0;

  CLI::App app{"switchyard-mock: an OpenAI-compatible mock upstream for tests and benchmarks"};
  app.add_option("--address", options.address, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port to listen on (0: ephemeral)")->capture_default_str();
  app.add_option("--threads", options.threads, "Threads serving connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--latency-ms", latency_ms, "Delay before each response's headers")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--ttfb-ms", ttfb_ms, "Streaming: delay before the first event")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--gap-ms", gap_ms, "Streaming: delay between events")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tokens", options.output_tokens,
                 "Completion length in tokens (unless max_tokens is smaller)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file, "PEM certificate chain (serve HTTPS)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options.tls_key_file, "PEM private key (serve HTTPS)")
      ->check(CLI::ExistingFile);
  std::vector<std::string> random_faults;
  app.add_option("--random-fault", random_faults,
                 "SHARE:STATUS or SHARE:FAULT (x-mock-fault syntax): inject it into that share "
                 "of the POST requests that ask for no fault themselves (repeatable; e.g. "
                 "0.02:500, 0.03:reset-before)");
  std::string dump_path;
  int record = 1000;
  app.add_option("--dump-requests", dump_path,
                 "On exit, write the method, target and headers of the last --record requests "
                 "to this file");
  app.add_option("--record", record, "Requests kept for --dump-requests")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  double shares = 0;
  for (const auto& spec : random_faults) {
    switchyard::mock::RandomFault fault;
    if (!ParseRandomFault(spec, &fault)) {
      std::cerr << "switchyard-mock: --random-fault takes SHARE:STATUS or SHARE:FAULT, not '"
                << spec << "'\n";
      return 2;
    }
    shares += fault.share;
    options.random_faults.push_back(fault);
  }
  if (shares > 1 + 1e-9) {
    std::cerr << "switchyard-mock: the --random-fault shares add up to more than 1\n";
    return 2;
  }
  if (!dump_path.empty()) {
    options.max_recorded = static_cast<std::size_t>(record);
    options.max_recorded_body = 0;  // heads only
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    std::cerr << "switchyard-mock: --tls-cert and --tls-key go together\n";
    return 2;
  }
  options.latency = std::chrono::milliseconds(latency_ms);
  options.ttfb = std::chrono::milliseconds(ttfb_ms);
  options.gap = std::chrono::milliseconds(gap_ms);

  // Block the signals before any thread starts, so only sigwait() below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  switchyard::mock::MockUpstream mock(options);
  try {
    mock.Start();
  } catch (const std::exception& e) {
    std::cerr << "switchyard-mock: cannot start: " << e.what() << "\n";
    return 1;
  }
  std::printf("switchyard-mock listening on %s:%u\n", options.address.c_str(),
              static_cast<unsigned>(mock.port()));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  mock.Stop();
  if (!dump_path.empty() && !DumpRequests(dump_path, mock)) {
    std::cerr << "switchyard-mock: cannot write " << dump_path << "\n";
    return 1;
  }
  return 0;
}
