// switchyard-load: the load client of bench/compare/run.sh, for what wrk cannot do.
//
//   switchyard-load rate    --url URL --body-file F [-H 'Name: value']... --rate R
//                           [--warmup S] [--duration S] [--connections N]
//   switchyard-load streams --url URL --body-file F [-H ...]... --streams N --gap-ms G
//                           [--ramp S] [--threshold-ms T] [--timeout S]
//
// Both take --watch LABEL=PID (repeatable): the process (and its direct children) whose CPU
// time (/proc/PID/stat utime+stime) and RSS (/proc/PID/status VmRSS) are sampled over the
// measurement. Prints one line "LOADJSON {...}"; exits 1 when nothing succeeded (rate) or a
// stream failed (streams).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/load/modes.h"

using namespace switchyard::load;

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool AddWatches(const std::vector<std::string>& specs, ProcWatch* watch) {
  for (const auto& spec : specs) {
    const std::size_t eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) return false;
    try {
      watch->Add(spec.substr(0, eq), std::stoi(spec.substr(eq + 1)));
    } catch (...) {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"switchyard-load: fixed-rate load and slow-stream fan-out for the benchmarks"};
  app.require_subcommand(1);
  std::string url, body_file;
  std::vector<std::string> headers, watches;
  auto common = [&](CLI::App* sub) {
    sub->add_option("--url", url, "http://HOST:PORT/PATH")->required();
    sub->add_option("--body-file", body_file, "Request body (JSON)")
        ->required()
        ->check(CLI::ExistingFile);
    sub->add_option("-H,--header", headers, "Extra request header 'Name: value' (repeatable)");
    sub->add_option("--watch", watches, "LABEL=PID whose CPU time and RSS to sample (repeatable)");
  };

  RateOptions rate;
  CLI::App* rate_cmd = app.add_subcommand("rate", "Open-loop load at a fixed arrival rate");
  common(rate_cmd);
  rate_cmd->add_option("--rate", rate.rate, "Requests per second")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  rate_cmd->add_option("--warmup", rate.warmup_s, "Seconds at the same rate before measuring")
      ->capture_default_str();
  rate_cmd->add_option("--duration", rate.duration_s, "Seconds measured")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  rate_cmd->add_option("--connections", rate.max_connections, "At most this many connections")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  rate_cmd->add_option("--drain", rate.drain_s, "Seconds to wait for the last requests")
      ->capture_default_str();
  rate_cmd->add_option("--latencies-out", rate.latencies_out,
                       "Write every measured latency (us), one per line");

  StreamsOptions streams;
  CLI::App* streams_cmd = app.add_subcommand("streams", "Many slow streams open at once");
  common(streams_cmd);
  streams_cmd->add_option("--streams", streams.streams, "Concurrent streams")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  streams_cmd
      ->add_option("--gap-ms", streams.gap_ms, "The gap between events the upstream was asked for")
      ->required();
  streams_cmd->add_option("--ramp", streams.ramp_s, "Seconds over which the streams are opened")
      ->capture_default_str();
  streams_cmd
      ->add_option("--threshold-ms", streams.threshold_ms,
                   "An event later than this beyond the gap is delayed")
      ->capture_default_str();
  streams_cmd->add_option("--timeout", streams.timeout_s, "Give up after this many seconds")
      ->capture_default_str();
  streams_cmd->add_option("--delays-out", streams.delays_out,
                          "Write every event's delay beyond the gap (us), one per line");
  streams_cmd->add_option("--events-out", streams.events_out,
                          "Write 'stream event microseconds' for every event");

  CLI11_PARSE(app, argc, argv);

  auto target = ParseUrl(url);
  if (!target) {
    std::cerr << "switchyard-load: --url must be http://HOST:PORT/PATH with a numeric host\n";
    return 2;
  }
  std::string body;
  if (!ReadFile(body_file, &body)) {
    std::cerr << "switchyard-load: cannot read " << body_file << "\n";
    return 2;
  }
  ProcWatch watch;
  if (!AddWatches(watches, &watch)) {
    std::cerr << "switchyard-load: --watch takes LABEL=PID\n";
    return 2;
  }
  RaiseFileLimit();
  try {
    if (rate_cmd->parsed()) {
      rate.target = *target;
      rate.request = BuildPost(*target, headers, body);
      rate.watch = watch.empty() ? nullptr : &watch;
      return RunRate(rate);
    }
    streams.target = *target;
    streams.request = BuildPost(*target, headers, body);
    streams.watch = watch.empty() ? nullptr : &watch;
    return RunStreams(streams);
  } catch (const std::exception& e) {
    std::cerr << "switchyard-load: " << e.what() << "\n";
    return 2;
  }
}
