#include "proxy/upstream/health.h"

namespace switchyard::upstream {

static std::int64_t Ns(UpstreamHealth::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

UpstreamHealth::UpstreamHealth(const config::CircuitBreaker& config)
    : config_(config), buckets_(10) {}

bool UpstreamHealth::Routable(Clock::time_point now) const {
  const std::int64_t t = Ns(now);
  if (t < paused_until_ns_.load(std::memory_order_relaxed)) return false;
  if (!open_.load(std::memory_order_acquire)) return true;
  return t >= open_until_ns_.load(std::memory_order_relaxed) &&
         !probing_.load(std::memory_order_relaxed);
}

bool UpstreamHealth::BeginAttempt(Clock::time_point now, bool* probe) {
  *probe = false;
  if (Ns(now) < paused_until_ns_.load(std::memory_order_relaxed)) return false;
  if (!open_.load(std::memory_order_acquire)) return true;  // closed: the common case, no lock
  std::lock_guard lock(mutex_);
  if (state_ == State::kClosed) return true;
  if (probe_in_flight_ || Ns(now) < open_until_ns_.load(std::memory_order_relaxed)) return false;
  state_ = State::kHalfOpen;
  probe_in_flight_ = true;
  probing_.store(true, std::memory_order_relaxed);
  *probe = true;
  return true;
}

void UpstreamHealth::Open(Clock::time_point now) {
  state_ = State::kOpen;
  consecutive_failures_ = 0;
  for (Bucket& b : buckets_) b = {};
  open_until_ns_.store(Ns(now + config_.open_for), std::memory_order_relaxed);
  open_.store(true, std::memory_order_release);
}

void UpstreamHealth::CountOutcome(bool failed, Clock::time_point now) {
  const std::int64_t width =
      std::chrono::duration_cast<std::chrono::nanoseconds>(config_.window).count() /
      static_cast<std::int64_t>(buckets_.size());
  const std::int64_t t = Ns(now);
  const std::int64_t start = width > 0 ? t - t % width : t;
  Bucket& bucket = buckets_[static_cast<std::size_t>(width > 0 ? (t / width) % buckets_.size() : 0)];
  if (bucket.start_ns != start) bucket = {start, 0, 0};
  ++bucket.requests;
  bucket.failures += failed ? 1 : 0;
}

void UpstreamHealth::RecordSuccess(bool probe, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (probe || state_ == State::kHalfOpen) {  // the probe came back fine: close
    probe_in_flight_ = false;
    probing_.store(false, std::memory_order_relaxed);
    state_ = State::kClosed;
    open_.store(false, std::memory_order_release);
    for (Bucket& b : buckets_) b = {};
  }
  consecutive_failures_ = 0;
  if (state_ == State::kClosed) CountOutcome(false, now);
}

void UpstreamHealth::RecordFailure(bool probe, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (probe) {  // still failing: open again for another period
    probe_in_flight_ = false;
    probing_.store(false, std::memory_order_relaxed);
    Open(now);
    return;
  }
  if (state_ != State::kClosed) return;  // already open; late outcomes of earlier requests
  CountOutcome(true, now);
  if (++consecutive_failures_ >= config_.failures) return Open(now);
  const std::int64_t oldest = Ns(now - config_.window);
  int requests = 0, failures = 0;
  for (const Bucket& b : buckets_)
    if (b.start_ns > oldest) requests += b.requests, failures += b.failures;
  if (requests >= config_.min_requests &&
      static_cast<double>(failures) >= config_.error_rate * static_cast<double>(requests))
    Open(now);
}

void UpstreamHealth::RecordCheck(bool ok, Clock::time_point now) {
  if (!ok) return RecordFailure(false, now);
  std::lock_guard lock(mutex_);
  if (state_ == State::kClosed || probe_in_flight_) return;  // a probe in flight decides
  state_ = State::kClosed;
  consecutive_failures_ = 0;
  open_.store(false, std::memory_order_release);
}

void UpstreamHealth::Abandon(bool probe) {
  if (!probe) return;
  std::lock_guard lock(mutex_);
  probe_in_flight_ = false;
  probing_.store(false, std::memory_order_relaxed);
}

void UpstreamHealth::PauseUntil(Clock::time_point until) {
  const std::int64_t t = Ns(until);
  std::int64_t current = paused_until_ns_.load(std::memory_order_relaxed);
  while (current < t && !paused_until_ns_.compare_exchange_weak(current, t)) {
  }
}

UpstreamHealth::State UpstreamHealth::state(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (state_ == State::kOpen && Ns(now) >= open_until_ns_.load(std::memory_order_relaxed))
    return State::kHalfOpen;  // the next request will probe it
  return state_;
}

const char* UpstreamHealth::StateName(State state) {
  switch (state) {
    case State::kClosed: return "up";
    case State::kOpen: return "down";
    case State::kHalfOpen: return "probing";
  }
  return "up";
}

void UpstreamHealth::RecordLatency(double seconds) {
  // Racy read-modify-write on purpose: a lost sample does not matter for a tie-break.
  const double old = latency_.load(std::memory_order_relaxed);
  latency_.store(old == 0 ? seconds : old * 0.8 + seconds * 0.2, std::memory_order_relaxed);
}

}  // namespace switchyard::upstream
