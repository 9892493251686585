// switchyard-load's two modes. Each runs to completion on the calling thread (its own
// io_context), bounded in time, and prints one line "LOADJSON {...}" with its results.
#pragma once

#include <string>
#include <vector>

#include "bench/load/load_common.h"

namespace switchyard::load {

// Open-loop load: requests start at a fixed arrival rate whatever the responses do (no
// coordinated omission). A request due while every connection is busy opens a new one (up
// to max_connections), else waits in a queue; its latency counts from when it was due.
// Every latency is recorded (and written to latencies_out, one per line, if given).
// With several requests, request i is requests[i % size]; every request sent, warm-up
// included, is counted per request by response status (or transport error), so a server's
// own count can be compared with what it was sent.
struct RateOptions {
  Target target;
  struct Request {
    std::string label;
    std::string bytes;  // raw bytes (BuildPost)
  };
  std::vector<Request> requests;  // at least one
  double rate = 1000;             // requests per second
  double warmup_s = 1;            // at the same rate, not recorded
  double duration_s = 5;
  int max_connections = 256;
  double drain_s = 5;  // after the last request is due, how long to wait for the stragglers
  std::string latencies_out;
  ProcWatch* watch = nullptr;
};
int RunRate(const RateOptions& options);

// Slow streams: `streams` streaming requests opened over `ramp_s`, all held open at once.
// For every SSE event after a stream's first, the client-observed gap minus the upstream's
// configured gap is its delay; reports how many exceeded `threshold_ms` and the max. The
// watched processes' RSS is sampled once every stream has had its first event, and every
// 100 ms for the peak.
struct StreamsOptions {
  Target target;
  std::string request;
  int streams = 1000;
  double gap_ms = 100;  // the gap the upstream was asked for (x-mock-gap-ms)
  double ramp_s = 1;
  double threshold_ms = 5;
  double timeout_s = 60;
  std::string delays_out;
  std::string events_out;  // "stream event microseconds" per event, for a closer look
  ProcWatch* watch = nullptr;
};
int RunStreams(const StreamsOptions& options);

}  // namespace switchyard::load
