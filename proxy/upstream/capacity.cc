#include "proxy/upstream/capacity.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace switchyard::upstream {

namespace asio = boost::asio;

bool CapacityGate::TryAcquire() {
  std::lock_guard lock(mutex_);
  if (in_use_ >= limit_) return false;
  ++in_use_;
  return true;
}

asio::awaitable<bool> CapacityGate::Acquire(std::chrono::steady_clock::time_point deadline) {
  // Shared with Release, which may cancel the timer after this frame moved on.
  auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
  {
    std::lock_guard lock(mutex_);
    if (in_use_ < limit_) {
      ++in_use_;
      co_return true;
    }
    if (static_cast<int>(waiters_.size()) >= max_queue_) co_return false;
    waiters_.push_back(waiter);
  }
  waiter->timer.expires_at(deadline);
  co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));  // deadline or woken
  std::lock_guard lock(mutex_);
  if (waiter->granted) co_return true;  // Release handed its slot over
  std::erase(waiters_, waiter);
  co_return false;
}

void CapacityGate::Release() {
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard lock(mutex_);
    if (waiters_.empty()) {
      --in_use_;
      return;
    }
    next = std::move(waiters_.front());  // the slot passes to it; in_use_ stays
    waiters_.pop_front();
    next->granted = true;
  }
  asio::post(next->timer.get_executor(), [next] { next->timer.cancel(); });
}

int CapacityGate::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

}  // namespace switchyard::upstream
