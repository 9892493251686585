// One upstream's health as every worker sees it: a circuit breaker fed by the outcome of each
// exchange (and of active checks), a pause while the upstream asked to be left alone (429
// retry-after), and its latency for cost tie-breaks. Thread-safe: a mutex around the breaker's
// counts, atomics for what routing reads on every request. Owned by the server.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "config/config.h"

namespace switchyard::upstream {

class UpstreamHealth {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit UpstreamHealth(const config::CircuitBreaker& config);

  // Whether routing may choose it now: closed, or open long enough that a probe may go and
  // none is in flight; and not paused by a retry-after.
  bool Routable(Clock::time_point now) const;

  // Called before sending. False: skip this upstream (open, a probe already in flight, or
  // paused). *probe tells the caller its outcome decides a half-open breaker.
  bool BeginAttempt(Clock::time_point now, bool* probe);
  // The outcome of an attempt BeginAttempt let through. `ended` without an outcome (the
  // request was abandoned before the upstream could answer) frees a probe slot only.
  void RecordSuccess(bool probe, Clock::time_point now);
  void RecordFailure(bool probe, Clock::time_point now);
  void Abandon(bool probe);
  // An active health check's result: a success closes an open circuit at once (the upstream
  // is back); a failure counts like a failed exchange.
  void RecordCheck(bool ok, Clock::time_point now);

  // A 429 with retry-after: not a failure, but no request should go before `until`.
  void PauseUntil(Clock::time_point until);
  Clock::time_point paused_until() const {
    return Clock::time_point(std::chrono::nanoseconds(paused_until_ns_.load(std::memory_order_relaxed)));
  }

  State state(Clock::time_point now) const;
  static const char* StateName(State state);  // "up", "down", "probing"

  // Time to response headers, smoothed (EWMA); routing breaks cost ties with it.
  double latency_seconds() const { return latency_.load(std::memory_order_relaxed); }
  void RecordLatency(double seconds);

 private:
  void Open(Clock::time_point now);  // under mutex_
  void CountOutcome(bool failed, Clock::time_point now);  // under mutex_

  const config::CircuitBreaker config_;
  mutable std::mutex mutex_;
  State state_ = State::kClosed;
  int consecutive_failures_ = 0;
  bool probe_in_flight_ = false;
  // The error-rate window as 10 buckets of window/10, each {requests, failures}.
  struct Bucket {
    std::int64_t start_ns = 0;
    int requests = 0;
    int failures = 0;
  };
  std::vector<Bucket> buckets_;
  // Read without the mutex on every routing decision.
  std::atomic<std::int64_t> open_until_ns_{0};   // open: no request before this
  std::atomic<std::int64_t> paused_until_ns_{0};  // retry-after
  std::atomic<bool> probing_{false};              // a half-open probe is in flight
  std::atomic<bool> open_{false};
  std::atomic<double> latency_{0};
};

}  // namespace switchyard::upstream
