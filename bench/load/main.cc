// switchyard-load: the load client of bench/compare/run.sh, for what wrk cannot do.
//
//   switchyard-load rate    --url URL (--body-file F | --requests-file F) [-H 'Name: value']...
//                           --rate R [--warmup S] [--duration S] [--connections N]
//   switchyard-load streams --url URL --body-file F [-H ...]... --streams N --gap-ms G
//                           [--ramp S] [--threshold-ms T] [--timeout S]
//
// Both take --watch LABEL=PID (repeatable): the process (and its direct children) whose CPU
// time (/proc/PID/stat utime+stime) and RSS (/proc/PID/status VmRSS) are sampled over the
// measurement. Prints one line "LOADJSON {...}"; exits 1 when nothing succeeded (rate) or a
// stream failed (streams). rate --requests-file sends a mix in turn: several bodies, each with
// its own headers (format: ParseRequestsFile in load_common.h), -H headers added to all; it
// reports how every request of each kind ended (bench/soak/run.sh).
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
    sub->add_option("--body-file", body_file, "Request body (JSON)")->check(CLI::ExistingFile);
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
  std::string requests_file;
  rate_cmd
      ->add_option("--requests-file", requests_file,
                   "Requests sent in turn instead of --body-file: [label], 'Name: value' lines, "
                   "then a one-line JSON body, for each")
      ->check(CLI::ExistingFile);

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
  if (body_file.empty() == requests_file.empty() || (!rate_cmd->parsed() && body_file.empty())) {
    std::cerr << "switchyard-load: give --body-file"
              << (rate_cmd->parsed() ? " or --requests-file (not both)\n" : "\n");
    return 2;
  }
  std::string body, requests_text;
  std::vector<RequestSpec> specs;
  if (!body_file.empty() && !ReadFile(body_file, &body)) {
    std::cerr << "switchyard-load: cannot read " << body_file << "\n";
    return 2;
  }
  if (!requests_file.empty()) {
    std::string error;
    if (!ReadFile(requests_file, &requests_text)) {
      std::cerr << "switchyard-load: cannot read " << requests_file << "\n";
      return 2;
    }
    if (!ParseRequestsFile(requests_text, &specs, &error)) {
      std::cerr << "switchyard-load: " << requests_file << ": " << error << "\n";
      return 2;
    }
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
      if (specs.empty()) rate.requests.push_back({"body", BuildPost(*target, headers, body)});
      for (const auto& spec : specs) {
        std::vector<std::string> all = headers;
        all.insert(all.end(), spec.headers.begin(), spec.headers.end());
        rate.requests.push_back({spec.label, BuildPost(*target, all, spec.body)});
      }
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
