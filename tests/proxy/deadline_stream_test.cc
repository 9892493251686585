// DeadlineStream (proxy/deadline_stream.h) over real loopback connections: which operations
// time out, when, and what a timed-out stream does next.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/deadline_stream.h"

namespace switchyard {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A read's outcome and when it completed.
struct Outcome {
  std::optional<error_code> ec;
  std::size_t bytes = 0;
  Clock::duration after{};
};

class DeadlineStreamTest : public ::testing::Test {
 protected:
  // A connected pair: the DeadlineStream side and a plain socket the test writes from.
  struct Pair {
    std::unique_ptr<DeadlineStream> stream;
    tcp::socket peer;
  };
  Pair Connect() {
    tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket peer(io_), accepted(io_);
    peer.connect(acceptor.local_endpoint());
    acceptor.accept(accepted);
    return Pair{std::make_unique<DeadlineStream>(std::move(accepted)), std::move(peer)};
  }

  // Starts a one-byte read that records its outcome.
  void StartRead(DeadlineStream& stream, Outcome& out) {
    const Clock::time_point start = Clock::now();
    stream.async_read_some(asio::buffer(byte_), [&out, start](error_code ec, std::size_t n) {
      out.ec = ec;
      out.bytes = n;
      out.after = Clock::now() - start;
    });
  }

  asio::io_context io_;
  char byte_[1];
};

TEST_F(DeadlineStreamTest, AReadWithNothingToReadTimesOutAfterItsDeadline) {
  Pair pair = Connect();
  pair.stream->expires_after(milliseconds(100));
  Outcome out;
  StartRead(*pair.stream, out);
  io_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(out.ec.has_value());
  EXPECT_EQ(*out.ec, boost::beast::error::timeout);
  EXPECT_GE(out.after, milliseconds(100));
  EXPECT_LT(out.after, milliseconds(2000));
  // As with beast::tcp_stream, a stream that timed out is closed.
  EXPECT_FALSE(pair.stream->socket().is_open());
}

TEST_F(DeadlineStreamTest, OperationsThatEachEndInTimeNeverTimeOut) {
  Pair pair = Connect();
  // Ten reads of 60 ms each: 600 ms in all, each under its own 200 ms deadline.
  asio::steady_timer pace(io_);
  int reads = 0;
  std::optional<error_code> failure;
  std::function<void()> next = [&] {
    pair.stream->expires_after(milliseconds(200));
    pair.stream->async_read_some(asio::buffer(byte_), [&](error_code ec, std::size_t) {
      if (ec) {
        failure = ec;
        return;
      }
      if (++reads < 10) next();
    });
    pace.expires_after(milliseconds(60));
    pace.async_wait([&](error_code ec) {
      if (!ec) asio::write(pair.peer, asio::buffer("x", 1));
    });
  };
  next();
  io_.run_for(std::chrono::seconds(5));
  EXPECT_FALSE(failure.has_value()) << failure->message();
  EXPECT_EQ(reads, 10);
}

TEST_F(DeadlineStreamTest, AShortDeadlineAfterALongOneIsKept) {
  Pair slow = Connect(), fast = Connect();
  slow.stream->expires_after(std::chrono::seconds(30));
  Outcome slow_out, fast_out;
  StartRead(*slow.stream, slow_out);
  fast.stream->expires_after(milliseconds(50));
  StartRead(*fast.stream, fast_out);
  io_.run_for(milliseconds(700));
  ASSERT_TRUE(fast_out.ec.has_value());
  EXPECT_EQ(*fast_out.ec, boost::beast::error::timeout);
  EXPECT_LT(fast_out.after, milliseconds(600));
  EXPECT_FALSE(slow_out.ec.has_value());  // still waiting, well within its 30 s
  // The slow stream still reads what arrives.
  asio::write(slow.peer, asio::buffer("y", 1));
  io_.run_one_for(milliseconds(500));
  ASSERT_TRUE(slow_out.ec.has_value());
  EXPECT_FALSE(*slow_out.ec);
  EXPECT_EQ(slow_out.bytes, 1u);
}

TEST_F(DeadlineStreamTest, AfterExpiresNeverAReadWaitsAsLongAsItTakes) {
  Pair pair = Connect();
  pair.stream->expires_after(milliseconds(50));  // a first read, watched by the sweeper
  Outcome first;
  StartRead(*pair.stream, first);
  asio::write(pair.peer, asio::buffer("x", 1));
  io_.run_one_for(milliseconds(500));
  ASSERT_TRUE(first.ec.has_value());
  ASSERT_FALSE(*first.ec);
  pair.stream->expires_never();
  Outcome second;
  StartRead(*pair.stream, second);
  io_.run_for(milliseconds(300));  // well past the first read's 50 ms
  EXPECT_FALSE(second.ec.has_value());
  pair.stream->cancel();
  io_.run_for(milliseconds(100));
  ASSERT_TRUE(second.ec.has_value());
  EXPECT_EQ(*second.ec, asio::error::operation_aborted);  // cancelled, not timed out
}

TEST_F(DeadlineStreamTest, ADeadlineSetWhileAReadIsPendingAppliesToIt) {
  Pair pair = Connect();
  pair.stream->expires_never();
  Outcome out;
  StartRead(*pair.stream, out);
  io_.poll();
  pair.stream->expires_after(milliseconds(50));
  io_.run_for(milliseconds(1000));
  ASSERT_TRUE(out.ec.has_value());
  EXPECT_EQ(*out.ec, boost::beast::error::timeout);
  EXPECT_GE(out.after, milliseconds(50));
}

TEST_F(DeadlineStreamTest, AWriteThatCannotProceedTimesOut) {
  Pair pair = Connect();
  // The peer never reads: once the socket buffers are full, the write waits and times out.
  const std::string big(64 * 1024 * 1024, 'z');
  pair.stream->expires_after(milliseconds(200));
  std::optional<error_code> result;
  asio::async_write(*pair.stream, asio::buffer(big),
                    [&](error_code ec, std::size_t) { result = ec; });
  io_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, boost::beast::error::timeout);
}

TEST_F(DeadlineStreamTest, ConnectTimesOutLikeAnyOtherOperation) {
  // A listener whose backlog is full: further connection attempts get no answer.
  tcp::acceptor full(io_, {asio::ip::make_address("127.0.0.1"), 0});
  full.listen(0);
  const tcp::endpoint target = full.local_endpoint();
  std::vector<int> fillers;  // non-blocking connects that fill the backlog
  for (int i = 0; i < 4; ++i) {
    fillers.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ::connect(fillers.back(), target.data(), static_cast<socklen_t>(target.size()));
  }
  DeadlineStream stream(io_.get_executor());
  stream.expires_after(milliseconds(200));
  std::optional<error_code> result;
  const std::array<tcp::endpoint, 1> endpoints{target};
  const Clock::time_point start = Clock::now();
  Clock::duration after{};
  stream.async_connect(endpoints, [&](error_code ec, const tcp::endpoint&) {
    result = ec;
    after = Clock::now() - start;
  });
  io_.run_for(std::chrono::seconds(5));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, boost::beast::error::timeout) << result->message();
  EXPECT_LT(after, std::chrono::seconds(2));
  for (int fd : fillers) ::close(fd);
}

TEST_F(DeadlineStreamTest, TheIoContextRunsDryOnceNoStreamIsLeft) {
  {
    Pair pair = Connect();
    pair.stream->expires_after(std::chrono::seconds(30));
    Outcome out;
    StartRead(*pair.stream, out);
    asio::write(pair.peer, asio::buffer("x", 1));
    io_.run_one();  // the read completes; the sweep for its 30 s deadline stays due
    ASSERT_TRUE(out.ec.has_value());
  }
  // The streams are gone: nothing is left to time out, so run() returns at once.
  const Clock::time_point start = Clock::now();
  io_.restart();
  io_.run();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace switchyard
