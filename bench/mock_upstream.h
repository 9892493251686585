// An OpenAI-compatible mock upstream (HTTP/1.1 or HTTPS) for integration tests, the demo
// and benchmarks. Thread-safe: every public method may be called from any thread; the
// server runs on its own io_context and threads. Nothing passed in must outlive it.
// Deterministic output; per-request behaviour can be driven by x-mock-* request headers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::mock {

// Serves (paths may carry a query string, which is ignored):
//   POST /v1/chat/completions   chat.completion / chat.completion.chunk (stream: true)
//   POST /v1/completions        text_completion (streaming too)
//   POST /v1/embeddings         float arrays or base64 (encoding_format), `dimensions`
//   GET  /v1/models             a list of a few models;  GET /v1/models/{id}
//   GET  /mock/stats            {"connections_accepted":..,"requests_served":..,
//                                "open_connections":..,"faults_injected":..}
//                                (not part of the OpenAI API)
// Anything else: 404 {"error":{"message":"Invalid URL (GET /x)","type":
// "invalid_request_error","param":null,"code":"not_found"}}. Unparseable JSON: 400, same
// shape with code null (as the real API). Too large: 413 (body) / 431 (headers), close.
//
// Completion content is `tokens` words; tokens = min(x-mock-tokens or output_tokens,
// max_tokens / max_completion_tokens); finish_reason is "length" when max_tokens cut it.
// prompt_tokens = max(1, request body bytes / 4); completion_tokens = words emitted.
//
// Per-request override headers:
//   x-mock-status: N       respond N with an OpenAI-shaped error (429 adds retry-after: 1)
//   x-mock-latency-ms: N   delay before the response headers (both modes)
//   x-mock-ttfb-ms: N      streaming: delay after the headers before the first event
//   x-mock-gap-ms: N       streaming: delay between events
//   x-mock-tokens: N       completion length (still capped by max_tokens)
//   x-mock-fault: a comma-separated list of
//     reset-before   read the request, then reset the connection (RST) without responding
//     reset-mid      send the headers and about half the events (or half the JSON body
//                    when not streaming), then reset
//     stall-before   never respond; hold the connection until the client closes it
//     stall-mid      like reset-mid, then go silent until the client closes
//     no-usage       omit usage everywhere (no "usage":null, no usage chunk)
//     malformed      200 with an invalid JSON body (streaming: an invalid data: event)
//     truncate       streaming: the response ends cleanly after the content events,
//                    without the finish chunk, usage chunk and [DONE]; not streaming:
//                    half the promised Content-Length, then close
// A flaky upstream without headers: MockOptions::random_faults.

// One kind of fault a flaky mock injects by itself into about `share` of the POST requests
// that set neither x-mock-status nor x-mock-fault: `status` (400-599) as with x-mock-status,
// else `faults` as with x-mock-fault. Which requests is decided by a hash of the request's
// serial number (deterministic, no shared random state).
struct RandomFault {
  double share = 0;  // 0..1; the shares of all entries add up to at most 1
  unsigned status = 0;
  std::string faults;  // x-mock-fault syntax, e.g. "reset-before" or "stall-mid"
};

struct MockOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral, see port()
  int threads = 1;
  std::chrono::milliseconds latency{0};  // delay before the response headers
  std::chrono::milliseconds ttfb{0};     // streaming: headers -> first event
  std::chrono::milliseconds gap{0};      // streaming: between events
  int output_tokens = 16;                // completion words unless max_tokens is smaller
  std::string tls_cert_file;             // PEM chain; with tls_key_file set: serve HTTPS
  std::string tls_key_file;              // PEM private key
  std::size_t max_recorded = 1000;       // ring of recorded requests; 0 records nothing
  std::size_t max_recorded_body = std::size_t{1} << 20;  // longer bodies are cut to this
  std::size_t max_header_bytes = std::size_t{64} << 10;
  std::size_t max_body_bytes = std::size_t{64} << 20;
  std::vector<RandomFault> random_faults;  // none: faults only when a request asks
};

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string authorization;                   // the Authorization header, "" if absent
  std::string body;                            // at most max_recorded_body bytes
  std::map<std::string, std::string> headers;  // lowercase names; repeats joined by ", "
};

class MockUpstream {
 public:
  explicit MockUpstream(MockOptions options);
  ~MockUpstream();  // Stop()s
  MockUpstream(const MockUpstream&) = delete;
  MockUpstream& operator=(const MockUpstream&) = delete;

  // Binds and listens (so port() is valid on return), then serves on options.threads
  // threads. Throws std::exception on a bind or TLS-file error. Call at most once.
  void Start();
  // Closes the listener and every connection (stalled ones too), joins the threads.
  // Returns promptly; idempotent.
  void Stop();

  uint16_t port() const;
  bool tls() const;
  uint64_t connections_accepted() const;
  // Requests read completely, counted before their response (or fault) is written.
  uint64_t requests_served() const;
  // Requests given one of options.random_faults.
  uint64_t faults_injected() const;
  int open_connections() const;
  // Oldest first; at most options.max_recorded. Requests are recorded before any
  // response byte is written, so a client that got a response sees its request here.
  std::vector<RecordedRequest> recorded_requests() const;
  void ClearRecordedRequests();

  struct State;  // implementation detail, shared with the connections

 private:
  std::shared_ptr<State> state_;
};

}  // namespace switchyard::mock
