// Shared pieces of switchyard-load (bench/load/): the target URL, the raw request, reading one
// HTTP/1.1 response with a timestamp per body read, SSE event counting, latency summaries
// and /proc sampling of the processes under test. Single-threaded use: every coroutine here
// runs on the one io_context of the load client.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::load {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
inline constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// http://HOST:PORT/PATH (plain HTTP only: the proxies are measured without TLS).
struct Target {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
};
std::optional<Target> ParseUrl(std::string_view url);

// A keep-alive POST of `body` with `headers` ("Name: value" each) as raw bytes.
std::string BuildPost(const Target& target, const std::vector<std::string>& headers,
                      const std::string& body);

// One request of a mix read from a requests file (--requests-file): a label, its own headers
// and its body.
struct RequestSpec {
  std::string label;
  std::vector<std::string> headers;
  std::string body;
};
// The file's format, one request after another:
//   [label]                      optional; default "#N", its position from 1
//   Name: value                  any number of header lines
//   {"model": ...}               the body, one line starting with '{'; ends the request
// Blank lines and lines starting with '#' are skipped. False, with a message naming the line,
// when a line fits none of these, a request has no body, or there is no request.
bool ParseRequestsFile(std::string_view text, std::vector<RequestSpec>* out, std::string* error);

// Receives a response's body bytes as they arrive, each read with the time it completed.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void OnBody(std::string_view bytes, Clock::time_point at) = 0;
};

struct ResponseResult {
  boost::system::error_code ec;
  int status = 0;
  bool keep_alive = false;
  std::optional<Clock::time_point> first_body_byte;
};

// Reads one response (head, then the body read by read, chunked or not) from `socket`; `sink`
// may be null. The caller keeps all three alive until the coroutine completes.
asio::awaitable<ResponseResult> ReadResponse(tcp::socket* socket, beast::flat_buffer* buffer,
                                             BodySink* sink);

// Counts complete SSE events ("\n\n" or "\r\n\r\n" terminated) across reads; calls back the
// time each completed at and whether it was "data: [DONE]".
class SseCounter {
 public:
  template <class F>  // void(Clock::time_point at, bool done)
  void Feed(std::string_view bytes, Clock::time_point at, F&& on_event);

 private:
  std::string pending_;
};

// Latencies in microseconds -> count, mean and percentiles (nearest rank).
struct Summary {
  std::size_t count = 0;
  double mean = 0;
  uint64_t min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};
Summary Summarize(std::vector<uint32_t> values);
std::string SummaryJson(const Summary& s);  // {"count":..,"mean":..,"p50":..,...}

// The processes under test, by label: a pid and its direct children (nginx's workers).
class ProcWatch {
 public:
  void Add(std::string label, int pid);  // children are looked up now
  bool empty() const { return watched_.empty(); }
  std::vector<std::pair<std::string, uint64_t>> Ticks() const;  // utime + stime, clock ticks
  std::vector<std::pair<std::string, uint64_t>> RssKb() const;  // VmRSS summed, kB

 private:
  struct Watched {
    std::string label;
    std::vector<int> pids;
  };
  std::vector<Watched> watched_;
};

// {"label":value,...}
std::string LabelsJson(const std::vector<std::pair<std::string, uint64_t>>& values);
std::string JsonString(std::string_view s);
uint32_t Micros(Clock::duration d);  // clamped to [0, UINT32_MAX]
void RaiseFileLimit();

template <class F>
void SseCounter::Feed(std::string_view bytes, Clock::time_point at, F&& on_event) {
  pending_.append(bytes);
  std::size_t start = 0;
  for (;;) {
    std::size_t lf = pending_.find("\n\n", start);
    std::size_t crlf = pending_.find("\r\n\r\n", start);
    std::size_t end, len;
    if (lf == std::string::npos && crlf == std::string::npos) break;
    if (crlf != std::string::npos && (lf == std::string::npos || crlf < lf)) {
      end = crlf;
      len = 4;
    } else {
      end = lf;
      len = 2;
    }
    std::string_view event(pending_.data() + start, end - start);
    on_event(at, event.find("[DONE]") != std::string_view::npos);
    start = end + len;
  }
  pending_.erase(0, start);
}

}  // namespace switchyard::load
