#include "proxy/deadline_stream.h"

#include <algorithm>

namespace switchyard {

boost::asio::execution_context::id DeadlineSweeper::id;

void DeadlineSweeper::Watch(DeadlineStream& stream) {
  if (!stream.is_linked()) watched_.push_back(stream);
  if (stream.deadline_ < timer_at_ - kSlack) SetTimer(stream.deadline_, stream.get_executor());
}

void DeadlineSweeper::Forget(DeadlineStream& stream) {
  watched_.erase(watched_.iterator_to(stream));
  // Nothing left to time out. (A stream that is alive but idle leaves the list only at the
  // next sweep: until then the timer keeps an io_context's run() from returning on its own.
  // The proxy's workers stop theirs explicitly.)
  if (watched_.empty() && timer_) {
    timer_->cancel();
    timer_at_ = Clock::time_point::max();
  }
}

void DeadlineSweeper::shutdown() {
  watched_.clear();
  timer_.reset();
}

void DeadlineSweeper::SetTimer(Clock::time_point at, const boost::asio::any_io_executor& executor) {
  // The sweep is not work of the stream that happened to come first.
  namespace execution = boost::asio::execution;
  if (!timer_) timer_.emplace(boost::asio::prefer(executor, execution::outstanding_work.untracked));
  timer_at_ = at;
  timer_->expires_at(at);  // a wait for a later time ends with operation_aborted
  timer_->async_wait([this](boost::system::error_code ec) {
    if (!ec) Sweep();
  });
}

void DeadlineSweeper::Sweep() {
  const Clock::time_point now = Clock::now();
  Clock::time_point next = Clock::time_point::max();
  for (auto it = watched_.begin(); it != watched_.end();) {
    DeadlineStream& stream = *it;
    if (stream.pending_ == 0 || stream.deadline_ == Clock::time_point::max()) {
      it = watched_.erase(it);  // idle: its next operation watches it again
    } else if (stream.deadline_ <= now) {
      it = watched_.erase(it);
      stream.TimeOut();  // its operations complete later, with operation_aborted
    } else {
      next = std::min(next, stream.deadline_);
      ++it;
    }
  }
  timer_at_ = Clock::time_point::max();
  // kSlack later, so deadlines that close together share a sweep: at most 1 / kSlack sweeps
  // a second, however many streams there are.
  if (next < Clock::time_point::max() - kSlack) SetTimer(next + kSlack, timer_->get_executor());
}

}  // namespace switchyard
