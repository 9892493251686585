// A limit on one upstream's requests at once across all workers (a self-hosted server's real
// capacity), with a bounded first-come queue of waiters. Thread-safe; waiters are coroutines
// on any worker: a released slot is handed to the oldest waiter, whose timer is cancelled on
// its own executor to wake it. Owned by the server; outlives every request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>

namespace switchyard::upstream {

class CapacityGate {
 public:
  CapacityGate(int limit, int max_queue) : limit_(limit), max_queue_(max_queue) {}

  bool limited() const { return limit_ > 0; }
  // A slot now, or false at the limit.
  bool TryAcquire();
  // A slot, waiting for one until `deadline` behind at most max_queue others. False: the
  // queue was full or the deadline passed.
  boost::asio::awaitable<bool> Acquire(std::chrono::steady_clock::time_point deadline);
  void Release();
  int in_use() const;

 private:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor ex) : timer(ex) {}
    boost::asio::steady_timer timer;
    bool granted = false;  // under mutex_
  };

  const int limit_;
  const int max_queue_;
  mutable std::mutex mutex_;
  int in_use_ = 0;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

// Holds a slot of a gate until destroyed (or released by hand).
class CapacitySlot {
 public:
  CapacitySlot() = default;
  explicit CapacitySlot(CapacityGate* gate) : gate_(gate) {}
  CapacitySlot(CapacitySlot&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
  CapacitySlot& operator=(CapacitySlot&& other) noexcept {
    Reset();
    gate_ = std::exchange(other.gate_, nullptr);
    return *this;
  }
  ~CapacitySlot() { Reset(); }
  void Reset() {
    if (gate_) std::exchange(gate_, nullptr)->Release();
  }

 private:
  CapacityGate* gate_ = nullptr;
};

}  // namespace switchyard::upstream
