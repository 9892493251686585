// Everything one request carries through the pipeline's phases (Pingora's CTX): what came
// in, what the phases decided, and the outcome that accounting records. Lives in the
// session's coroutine frame for one request; used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/accounting/budgets.h"
#include "proxy/accounting/usage.h"
#include "proxy/deadline_stream.h"
#include "proxy/metrics/metrics.h"
#include "proxy/openai/request.h"
#include "proxy/client_request.h"
#include "proxy/runtime.h"
#include "proxy/server.h"

namespace switchyard {

struct RequestContext {
  RequestContext(Worker& w, DeadlineStream& c, std::shared_ptr<WorkerRuntime> l,
                 ClientRequest r)
      : worker(w),
        client(c),
        local(std::move(l)),
        runtime(local->runtime.get()),
        request(std::move(r)),
        start(std::chrono::steady_clock::now()),
        start_ms(accounting::NowMs()) {}

  Worker& worker;
  DeadlineStream& client;
  // The config this request started on, with this worker's pools for it: a reload does not
  // change them under the request.
  std::shared_ptr<WorkerRuntime> local;
  const Runtime* runtime;  // local->runtime
  ClientRequest request;
  std::chrono::steady_clock::time_point start;
  std::int64_t start_ms;  // wall clock, Unix epoch ms, for the ledger
  Route route = Route::kOther;
  std::string_view path;  // request target without the query string
  std::string request_id;
  bool keep_alive = true;

  // Decided by the phases.
  openai::ParsedRequest parsed;
  const ProfileRuntime* profile = nullptr;       // when `model` named a routing profile
  double score = 0;                              // the classifier's, for a profile
  int required_tier = 0;
  std::vector<const ModelRuntime*> candidates;   // in order of preference
  const ModelRuntime* model = nullptr;           // the candidate being tried / that answered

  // Who is asking (keys configured) and what their budgets hold for this request.
  const KeyRuntime* key = nullptr;  // null in open mode
  std::optional<accounting::Reservation> reservation;
  bool budget_soft = false;  // a budget is below its soft limit: route to the cheapest tier

  // The outcome.
  accounting::Usage usage;  // as the upstream reported it (present = false when it did not)
  bool hide_usage_chunk = false;  // the proxy asked for the stream's usage, not the client
  bool upstream_answered = false;  // response headers came from the chosen upstream
  std::string generated_text;      // for estimating usage when none is reported
  std::size_t generated_overflow = 0;  // bytes past generated_text's limit
  std::chrono::steady_clock::time_point upstream_sent{};   // request written upstream
  std::chrono::steady_clock::time_point upstream_done{};   // last upstream byte read
  std::chrono::steady_clock::time_point first_byte{};      // first body byte to the client
  unsigned status = 0;
  std::uint64_t bytes_out = 0;
  std::string error_code;     // "" on success
  bool client_gone = false;   // a write to the client failed
};

}  // namespace switchyard
