// The mock upstream: an accept loop, one coroutine per connection (own strand when
// threads > 1), and a pure "planner" that turns a request into the bytes to write, the
// delays between them and how the connection ends. The planner never does I/O; the
// connection coroutine executes its plan with a steady_timer and async_write.
#include "bench/mock_upstream.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>

namespace switchyard::mock {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Ms = std::chrono::milliseconds;
using Token = asio::as_tuple_t<asio::use_awaitable_t<>>;
using Socket = Token::as_default_on_t<tcp::socket>;
using Acceptor = Token::as_default_on_t<tcp::acceptor>;
using Timer = Token::as_default_on_t<asio::steady_timer>;
using TlsStream = asio::ssl::stream<Socket>;
using Request = http::request<http::string_body>;
using namespace asio::experimental::awaitable_operators;  // NOLINT: `a || b` below

constexpr int kMaxTokens = 100'000;
constexpr int kMaxDimensions = 4096;
constexpr Ms kMaxDelay{3'600'000};
constexpr Ms kLingerTime{500};
constexpr std::size_t kMaxDrainBytes = std::size_t{64} << 20;
constexpr std::size_t kShrinkAbove = std::size_t{64} << 10;  // recorder body capacity

}  // namespace

// ---------------------------------------------------------------------------------------
// Shared state: options, counters, the request ring, and (owned by Start/Stop) the
// io_context. Connection coroutines hold a shared_ptr to it.

namespace {

class Recorder {
 public:
  Recorder(std::size_t capacity, std::size_t body_cap) : ring_(capacity), body_cap_(body_cap) {}

  void Record(const Request& req) {
    if (ring_.empty()) return;
    std::lock_guard lock(mu_);
    Slot& slot = ring_[next_];
    next_ = (next_ + 1) % ring_.size();
    count_ = std::min(count_ + 1, ring_.size());
    slot.method.assign(req.method_string());
    slot.target.assign(req.target());
    std::string_view body = req.body();
    body = body.substr(0, std::min(body.size(), body_cap_));
    if (slot.body.capacity() > 4 * std::max<std::size_t>(body.size(), kShrinkAbove)) {
      std::string().swap(slot.body);  // do not pin a once-large buffer forever
    }
    slot.body.assign(body);
    slot.used = 0;
    for (const auto& field : req) {
      if (slot.used == slot.headers.size()) slot.headers.emplace_back();
      auto& [name, value] = slot.headers[slot.used++];
      name.assign(field.name_string());
      for (char& c : name) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
      value.assign(field.value());
    }
  }

  std::vector<RecordedRequest> Snapshot() const {
    std::lock_guard lock(mu_);
    std::vector<RecordedRequest> out;
    out.reserve(count_);
    for (std::size_t i = 0; i < count_; ++i) {
      const Slot& slot = ring_[(next_ + ring_.size() - count_ + i) % ring_.size()];
      RecordedRequest& r = out.emplace_back();
      r.method = slot.method;
      r.target = slot.target;
      r.body = slot.body;
      for (std::size_t h = 0; h < slot.used; ++h) {
        const auto& [name, value] = slot.headers[h];
        auto [it, inserted] = r.headers.try_emplace(name, value);
        if (!inserted) it->second.append(", ").append(value);
      }
      if (auto it = r.headers.find("authorization"); it != r.headers.end()) {
        r.authorization = it->second;
      }
    }
    return out;
  }

  void Clear() {
    std::lock_guard lock(mu_);
    count_ = 0;
  }

 private:
  struct Slot {
    std::string method, target, body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t used = 0;
  };
  mutable std::mutex mu_;
  std::vector<Slot> ring_;
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  std::size_t body_cap_;
};

}  // namespace

struct MockUpstream::State {
  explicit State(MockOptions o)
      : options(std::move(o)), recorder(options.max_recorded, options.max_recorded_body) {}

  const MockOptions options;
  Recorder recorder;
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> served{0};
  std::atomic<uint64_t> injected{0};  // options.random_faults applied
  std::atomic<int> open{0};
  std::atomic<uint64_t> next_id{1};
  uint16_t port = 0;

  // Owned by Start()/Stop() (the caller's thread); connections only use them while the
  // io_context runs.
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;
  std::unique_ptr<asio::ssl::context> ssl;
  std::unique_ptr<asio::io_context> ioc;
  std::optional<Acceptor> acceptor;
  std::vector<std::thread> threads;
};

namespace {

using State = MockUpstream::State;

// ---------------------------------------------------------------------------------------
// JSON building helpers (string appends; no DOM).

void AppendInt(std::string& out, int64_t v) {
  fmt::format_int f(v);
  out.append(f.data(), f.size());
}

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

constexpr std::string_view kWords[] = {
    "The", "mock",   "upstream", "says", "hello", "from",    "switchyard", "and",
    "it",  "counts", "every",    "word", "as",    "exactly", "one",        "token."};

// Token i of a completion; the tokens concatenate to the non-streaming content.
void AppendWord(std::string& out, int i) {
  if (i > 0) out.push_back(' ');
  out.append(kWords[i % std::size(kWords)]);
}

struct ErrorInfo {
  ErrorInfo() = default;
  ErrorInfo(unsigned s, std::string m, std::string_view t = "invalid_request_error",
            std::string_view p = {}, std::string_view c = {})
      : status(s), message(std::move(m)), type(t), param(p), code(c) {}
  unsigned status = 400;
  std::string message;
  std::string_view type = "invalid_request_error";
  std::string_view param;  // "" -> null
  std::string_view code;   // "" -> null
};

void AppendErrorJson(std::string& out, const ErrorInfo& e) {
  out.append(R"({"error":{"message":)");
  AppendJsonString(out, e.message);
  out.append(R"(,"type":)");
  AppendJsonString(out, e.type);
  out.append(R"(,"param":)");
  if (e.param.empty())
    out.append("null");
  else
    AppendJsonString(out, e.param);
  out.append(R"(,"code":)");
  if (e.code.empty())
    out.append("null");
  else
    AppendJsonString(out, e.code);
  out.append("}}");
}

ErrorInfo ErrorForStatus(unsigned status) {
  ErrorInfo e;
  e.status = status;
  switch (status) {
    case 401:
      e.message = "Incorrect API key provided (x-mock-status).";
      e.code = "invalid_api_key";
      break;
    case 403:
      e.message = "You are not allowed to access this resource (x-mock-status).";
      e.type = "permission_error";
      break;
    case 404:
      e.message = "Not found (x-mock-status).";
      e.code = "not_found";
      break;
    case 429:
      e.message = "Rate limit reached (x-mock-status). Please try again in 1s.";
      e.type = "requests";
      e.code = "rate_limit_exceeded";
      break;
    case 503:
      e.message = "The engine is currently overloaded, please try again later.";
      e.type = "server_error";
      break;
    default:
      if (status >= 500) {
        e.message = fmt::format(
            "The server had an error while processing your request "
            "(x-mock-status {}).",
            status);
        e.type = "server_error";
      } else {
        e.message = fmt::format("Request failed (x-mock-status {}).", status);
      }
  }
  return e;
}

// ---------------------------------------------------------------------------------------
// Request decoding.

enum Fault : unsigned {
  kResetBefore = 1u << 0,
  kResetMid = 1u << 1,
  kStallBefore = 1u << 2,
  kStallMid = 1u << 3,
  kNoUsage = 1u << 4,
  kMalformed = 1u << 5,
  kTruncate = 1u << 6,
};

struct Overrides {
  unsigned status = 0;
  Ms latency{0}, ttfb{0}, gap{0};
  int tokens = 0;
  unsigned faults = 0;
};

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

void ParseDelay(std::string_view s, Ms& out) {
  int64_t v;
  if (ParseNumber(s, v) && v >= 0) out = std::min(Ms(v), kMaxDelay);
}

unsigned ParseFaults(std::string_view s) {
  unsigned faults = 0;
  while (!s.empty()) {
    std::size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (beast::iequals(item, "reset-before"))
      faults |= kResetBefore;
    else if (beast::iequals(item, "reset-mid"))
      faults |= kResetMid;
    else if (beast::iequals(item, "stall-before"))
      faults |= kStallBefore;
    else if (beast::iequals(item, "stall-mid"))
      faults |= kStallMid;
    else if (beast::iequals(item, "no-usage"))
      faults |= kNoUsage;
    else if (beast::iequals(item, "malformed"))
      faults |= kMalformed;
    else if (beast::iequals(item, "truncate"))
      faults |= kTruncate;
  }
  return faults;
}

// options.random_faults: the entry whose share covers this request's hash, if any.
const RandomFault* PickRandomFault(const MockOptions& options, uint64_t serial) {
  uint64_t z = serial + 0x9e3779b97f4a7c15ull;  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const double u = static_cast<double>(z >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  double covered = 0;
  for (const RandomFault& f : options.random_faults) {
    covered += f.share;
    if (u < covered) return &f;
  }
  return nullptr;
}

Overrides ReadOverrides(const MockOptions& options, const Request& req) {
  Overrides o;
  o.latency = options.latency;
  o.ttfb = options.ttfb;
  o.gap = options.gap;
  o.tokens = options.output_tokens;
  for (const auto& field : req) {
    std::string_view name = field.name_string();
    if (name.size() <= 7 || !beast::iequals(name.substr(0, 7), "x-mock-")) continue;
    name.remove_prefix(7);
    std::string_view value = field.value();
    if (beast::iequals(name, "status")) {
      unsigned v;
      if (ParseNumber(value, v) && v >= 400 && v <= 599) o.status = v;
    } else if (beast::iequals(name, "latency-ms")) {
      ParseDelay(value, o.latency);
    } else if (beast::iequals(name, "ttfb-ms")) {
      ParseDelay(value, o.ttfb);
    } else if (beast::iequals(name, "gap-ms")) {
      ParseDelay(value, o.gap);
    } else if (beast::iequals(name, "tokens")) {
      int v;
      if (ParseNumber(value, v) && v >= 0) o.tokens = std::min(v, kMaxTokens);
    } else if (beast::iequals(name, "fault")) {
      o.faults |= ParseFaults(value);
    }
  }
  return o;
}

// The request body fields the mock looks at. One per connection, reused.
struct Body {
  std::string model;
  bool has_model = false, has_messages = false, has_prompt = false, has_input = false;
  bool stream = false, has_stream_options = false, include_usage = false;
  int64_t max_tokens = -1;  // -1: absent
  bool base64 = false;
  int dimensions = 8;
  std::vector<uint64_t> input_hashes;  // one per embedding input
  int64_t input_units = 0;             // input bytes (strings) or token ids (arrays)

  void Reset() {
    model.clear();
    has_model = has_messages = has_prompt = has_input = false;
    stream = has_stream_options = include_usage = base64 = false;
    max_tokens = -1;
    dimensions = 8;
    input_hashes.clear();
    input_units = 0;
  }
};

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

ErrorInfo BadJson() {
  return {400,
          "We could not parse the JSON body of your request. (HINT: This likely means you "
          "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)"};
}

ErrorInfo InvalidType(std::string_view param, std::string_view expected) {
  return {400, fmt::format("Invalid type for '{}': expected {}.", param, expected),
          "invalid_request_error", param, "invalid_type"};
}

std::optional<ErrorInfo> ParseInput(simdjson::ondemand::value value, Body& body) {
  using simdjson::ondemand::json_type;
  json_type type;
  if (value.type().get(type)) return BadJson();
  body.has_input = true;
  std::string_view s;
  if (type == json_type::string) {
    if (value.get_string().get(s)) return BadJson();
    body.input_hashes.push_back(Fnv1a(s));
    body.input_units += static_cast<int64_t>(s.size());
    return std::nullopt;
  }
  if (type != json_type::array) return InvalidType("input", "a string or an array");
  simdjson::ondemand::array array;
  if (value.get_array().get(array)) return BadJson();
  uint64_t ids_hash = Fnv1a("ids");
  bool saw_ids = false, saw_other = false;
  for (auto element_result : array) {
    simdjson::ondemand::value element;
    if (element_result.get(element) || element.type().get(type)) return BadJson();
    if (type == json_type::string) {
      if (element.get_string().get(s)) return BadJson();
      body.input_hashes.push_back(Fnv1a(s));
      body.input_units += static_cast<int64_t>(s.size());
      saw_other = true;
    } else if (type == json_type::number) {
      int64_t id;
      if (element.get_int64().get(id)) return InvalidType("input", "integer token ids");
      ids_hash = (ids_hash ^ static_cast<uint64_t>(id)) * 1099511628211ull;
      ++body.input_units;
      saw_ids = true;
    } else if (type == json_type::array) {
      simdjson::ondemand::array ids;
      std::string_view raw;
      if (element.get_array().get(ids) || ids.raw_json().get(raw)) return BadJson();
      body.input_hashes.push_back(Fnv1a(raw));
      body.input_units += std::max<int64_t>(1, std::count(raw.begin(), raw.end(), ',') + 1);
      saw_other = true;
    } else {
      return InvalidType("input", "strings or token ids");
    }
  }
  if (saw_ids && saw_other) return InvalidType("input", "strings or token ids, not both");
  if (saw_ids) body.input_hashes.push_back(ids_hash);
  if (body.input_hashes.empty()) {
    return ErrorInfo{400, "'$.input' is invalid: it must not be empty.", "invalid_request_error",
                     "input"};
  }
  return std::nullopt;
}

// Decodes the top-level fields of `json` (which has SIMDJSON_PADDING spare capacity).
std::optional<ErrorInfo> ParseBody(std::string& json, Body& body) {
  thread_local simdjson::ondemand::parser parser;
  body.Reset();
  json.reserve(json.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(json.data(), json.size(), json.capacity()).get(doc)) return BadJson();
  simdjson::ondemand::object object;
  if (doc.get_object().get(object)) return BadJson();
  for (auto field_result : object) {
    simdjson::ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) return BadJson();
    simdjson::ondemand::value value = field.value();
    if (key == "model") {
      std::string_view model;
      if (value.get_string().get(model)) return InvalidType("model", "a string");
      body.model.assign(model);
      body.has_model = true;
    } else if (key == "messages") {
      simdjson::ondemand::array messages;
      if (value.get_array().get(messages)) return InvalidType("messages", "an array");
      for (auto message : messages) {
        if (message.error()) return BadJson();  // walks (validates) the array
      }
      body.has_messages = true;
    } else if (key == "prompt") {
      body.has_prompt = true;
    } else if (key == "input") {
      if (auto error = ParseInput(value, body)) return error;
    } else if (key == "stream") {
      if (value.get_bool().get(body.stream)) return InvalidType("stream", "a boolean");
    } else if (key == "stream_options") {
      simdjson::ondemand::object options;
      if (value.get_object().get(options)) return InvalidType("stream_options", "an object");
      body.has_stream_options = true;
      for (auto option_result : options) {
        simdjson::ondemand::field option;
        std::string_view name;
        if (std::move(option_result).get(option) || option.unescaped_key().get(name))
          return BadJson();
        if (name == "include_usage" && option.value().get_bool().get(body.include_usage)) {
          return InvalidType("stream_options.include_usage", "a boolean");
        }
      }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      simdjson::ondemand::json_type type;
      if (value.type().get(type)) return BadJson();
      if (type == simdjson::ondemand::json_type::null) continue;
      int64_t v;
      std::string_view param = key == "max_tokens" ? "max_tokens" : "max_completion_tokens";
      if (value.get_int64().get(v)) return InvalidType(param, "an integer");
      if (v < 1) {
        return ErrorInfo{400, fmt::format("Invalid '{}': integer below minimum value.", param),
                         "invalid_request_error", param, "integer_below_min_value"};
      }
      body.max_tokens = body.max_tokens < 0 ? v : std::min(body.max_tokens, v);
    } else if (key == "encoding_format") {
      std::string_view format;
      if (value.get_string().get(format)) return InvalidType("encoding_format", "a string");
      if (format != "float" && format != "base64") {
        return ErrorInfo{400,
                         "Invalid value for 'encoding_format': expected 'float' or "
                         "'base64'.",
                         "invalid_request_error", "encoding_format"};
      }
      body.base64 = format == "base64";
    } else if (key == "dimensions") {
      int64_t v;
      if (value.get_int64().get(v)) return InvalidType("dimensions", "an integer");
      if (v < 1 || v > kMaxDimensions) {
        return ErrorInfo{400, "Invalid 'dimensions': out of range.", "invalid_request_error",
                         "dimensions"};
      }
      body.dimensions = static_cast<int>(v);
    }
  }
  if (body.has_stream_options && !body.stream) {
    return ErrorInfo{400,
                     "The 'stream_options' parameter is only allowed when 'stream' is "
                     "enabled.",
                     "invalid_request_error", "stream_options"};
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// The plan: bytes to write, split into segments each preceded by a delay, and what to do
// with the connection afterwards.

enum class End { kKeepAlive, kClose, kReset, kStall };

struct Plan {
  struct Segment {
    std::size_t begin;
    Ms delay;
  };
  std::string bytes;
  std::vector<Segment> segments;
  End end = End::kKeepAlive;

  void Clear() {
    bytes.clear();
    segments.clear();
    end = End::kKeepAlive;
  }
  // Starts a new segment: what is appended next is written after `delay`.
  void Segment(Ms delay) { segments.push_back({bytes.size(), delay}); }
};

// What the planner knows about the request besides its body.
struct Exchange {
  bool http11 = true;
  bool keep_alive = true;
  Overrides overrides;
  int64_t prompt_tokens = 1;
  std::string id;          // response id, e.g. "chatcmpl-mock000000000000002a"
  std::string request_id;  // x-request-id header value
  int64_t created = 0;
  std::string scratch;  // a body or an event while it is built
  std::string prefix;   // per-request constant part of every stream chunk
};

void AppendHead(Plan& plan, const Exchange& x, unsigned status, std::string_view content_type,
                std::optional<std::size_t> content_length) {
  std::string& out = plan.bytes;
  out.append("HTTP/1.1 ");
  AppendInt(out, status);
  out.push_back(' ');
  out.append(http::obsolete_reason(static_cast<http::status>(status)));
  out.append("\r\ncontent-type: ").append(content_type);
  if (content_length) {
    out.append("\r\ncontent-length: ");
    AppendInt(out, static_cast<int64_t>(*content_length));
  } else if (x.http11) {
    out.append("\r\ncache-control: no-cache\r\ntransfer-encoding: chunked");
  }
  out.append("\r\nx-request-id: ").append(x.request_id);
  if (status == 429) out.append("\r\nretry-after: 1");
  if (!x.keep_alive) {
    out.append("\r\nconnection: close");
  } else if (!x.http11) {
    out.append("\r\nconnection: keep-alive");
  }
  out.append("\r\n\r\n");
}

// A complete non-streaming response whose JSON body is x.scratch.
void PlanJson(Plan& plan, const Exchange& x, unsigned status) {
  plan.Segment(x.overrides.latency);
  AppendHead(plan, x, status, "application/json", x.scratch.size());
  unsigned faults = x.overrides.faults;
  if (status == 200 && (faults & (kResetMid | kStallMid | kTruncate))) {
    plan.bytes.append(x.scratch, 0, x.scratch.size() / 2);
    plan.end = (faults & kResetMid)   ? End::kReset
               : (faults & kStallMid) ? End::kStall
                                      : End::kClose;
    return;
  }
  plan.bytes.append(x.scratch);
  if (!x.keep_alive) plan.end = End::kClose;
}

void PlanError(Plan& plan, Exchange& x, const ErrorInfo& error) {
  x.scratch.clear();
  AppendErrorJson(x.scratch, error);
  x.overrides.faults = 0;
  PlanJson(plan, x, error.status);
}

// Appends the SSE event "data: <payload>\n\n" as its own segment (written after `delay`),
// chunk-framed when the response is chunked.
void PlanEvent(Plan& plan, const Exchange& x, Ms delay, std::string_view payload) {
  plan.Segment(delay);
  std::string& out = plan.bytes;
  if (x.http11) {
    fmt::format_to(std::back_inserter(out), "{:x}\r\n", payload.size() + 8);
  }
  out.append("data: ").append(payload).append("\n\n");
  if (x.http11) out.append("\r\n");
}

void AppendUsage(std::string& out, int64_t prompt, int64_t completion, bool details) {
  out.append(R"("usage":{"prompt_tokens":)");
  AppendInt(out, prompt);
  out.append(R"(,"completion_tokens":)");
  AppendInt(out, completion);
  out.append(R"(,"total_tokens":)");
  AppendInt(out, prompt + completion);
  if (details) {
    out.append(R"(,"prompt_tokens_details":{"cached_tokens":0})"
               R"(,"completion_tokens_details":{"reasoning_tokens":0})");
  }
  out.push_back('}');
}

enum class Kind { kChat, kText };

// /v1/chat/completions and /v1/completions, streaming or not.
void PlanCompletion(Plan& plan, Exchange& x, const Body& body, Kind kind) {
  const Overrides& o = x.overrides;
  int tokens = o.tokens;
  bool cut = body.max_tokens >= 0 && body.max_tokens < tokens;
  if (cut) tokens = static_cast<int>(body.max_tokens);
  std::string_view finish = cut ? "length" : "stop";
  bool usage = !(o.faults & kNoUsage);
  bool chat = kind == Kind::kChat;
  std::string& s = x.scratch;

  if (!body.stream) {
    s.clear();
    if (o.faults & kMalformed) {
      s.append(R"({"id":")")
          .append(x.id)
          .append(R"(","object":")")
          .append(chat ? "chat.completion" : "text_completion")
          .append(R"(","choices":[{"index":0,"message":{"content":"unterminated)");
      PlanJson(plan, x, 200);
      return;
    }
    s.append(R"({"id":")").append(x.id);
    s.append(chat ? R"(","object":"chat.completion","created":)"
                  : R"(","object":"text_completion","created":)");
    AppendInt(s, x.created);
    s.append(R"(,"model":)");
    AppendJsonString(s, body.model);
    s.append(R"(,"system_fingerprint":"fp_mock","choices":[{"index":0,)");
    s.append(chat ? R"("message":{"role":"assistant","content":")" : R"("text":")");
    for (int i = 0; i < tokens; ++i) AppendWord(s, i);
    s.append(chat ? R"(","refusal":null},"logprobs":null,"finish_reason":")"
                  : R"(","logprobs":null,"finish_reason":")");
    s.append(finish).append("\"}]");
    if (usage) {
      s.push_back(',');
      AppendUsage(s, x.prompt_tokens, tokens, chat);
    }
    s.push_back('}');
    PlanJson(plan, x, 200);
    return;
  }

  // Streaming.
  plan.Segment(o.latency);
  AppendHead(plan, x, 200, "text/event-stream", std::nullopt);
  bool usage_null = usage && body.include_usage;
  std::string& p = x.prefix;
  p.assign(R"({"id":")").append(x.id);
  p.append(chat ? R"(","object":"chat.completion.chunk","created":)"
                : R"(","object":"text_completion","created":)");
  AppendInt(p, x.created);
  p.append(R"(,"model":)");
  AppendJsonString(p, body.model);
  p.append(R"(,"system_fingerprint":"fp_mock","choices":[)");
  auto event = [&](Ms delay, auto&& append_choice) {
    s.assign(p);
    append_choice(s);
    s.push_back(']');
    if (usage_null) s.append(R"(,"usage":null)");
    s.push_back('}');
    PlanEvent(plan, x, delay, s);
  };
  Ms delay = o.ttfb;
  if (chat) {
    event(delay, [](std::string& out) {
      out.append(R"({"index":0,"delta":{"role":"assistant","content":"","refusal":null},)"
                 R"("logprobs":null,"finish_reason":null})");
    });
    delay = o.gap;
  }
  bool mid = o.faults & (kResetMid | kStallMid);
  int emit = mid ? std::max(1, tokens / 2) : tokens;
  if (o.faults & kMalformed) emit = std::min(emit, 1);
  for (int i = 0; i < emit && i < tokens; ++i) {
    event(delay, [&](std::string& out) {
      out.append(chat ? R"({"index":0,"delta":{"content":")" : R"({"text":")");
      AppendWord(out, i);
      out.append(chat ? R"("},"logprobs":null,"finish_reason":null})"
                      : R"(","index":0,"logprobs":null,"finish_reason":null})");
    });
    delay = o.gap;
  }
  if (mid) {
    plan.end = (o.faults & kResetMid) ? End::kReset : End::kStall;
    return;
  }
  if (o.faults & kMalformed) {
    PlanEvent(plan, x, delay,
              R"({"id":")"
              "chatcmpl-broken"
              R"(","choices":[{"delta":)");
    delay = o.gap;
  } else if (!(o.faults & kTruncate)) {
    event(delay, [&](std::string& out) {
      out.append(chat ? R"({"index":0,"delta":{},"logprobs":null,"finish_reason":")"
                      : R"({"text":"","index":0,"logprobs":null,"finish_reason":")");
      out.append(finish).append("\"}");
    });
    delay = o.gap;
    if (usage && body.include_usage) {
      s.assign(p);
      s.append("],");
      AppendUsage(s, x.prompt_tokens, tokens, chat);
      s.push_back('}');
      PlanEvent(plan, x, delay, s);
    }
  }
  if (!(o.faults & kTruncate)) PlanEvent(plan, x, delay, "[DONE]");
  if (x.http11) {
    plan.bytes.append("0\r\n\r\n");
    if (!x.keep_alive) plan.end = End::kClose;
  } else {
    plan.end = End::kClose;  // HTTP/1.0: the body ends with the connection
  }
}

void AppendBase64(std::string& out, const unsigned char* data, std::size_t size) {
  std::size_t old = out.size();
  out.resize(old + 4 * ((size + 2) / 3) + 1);
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + old), data,
                          static_cast<int>(size));
  out.resize(old + static_cast<std::size_t>(n));
}

void PlanEmbeddings(Plan& plan, Exchange& x, const Body& body) {
  std::string& s = x.scratch;
  s.assign(R"({"object":"list","data":[)");
  std::vector<float> vec(static_cast<std::size_t>(body.dimensions));
  for (std::size_t i = 0; i < body.input_hashes.size(); ++i) {
    // Deterministic unit vector from the input's hash (splitmix64 stream).
    uint64_t state = body.input_hashes[i];
    double norm = 0;
    for (float& v : vec) {
      uint64_t z = (state += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      z ^= z >> 31;
      v = static_cast<float>(static_cast<double>(z >> 11) / 4503599627370496.0 - 1.0);
      norm += static_cast<double>(v) * v;
    }
    norm = norm > 0 ? std::sqrt(norm) : 1;
    for (float& v : vec) v = static_cast<float>(v / norm);

    if (i > 0) s.push_back(',');
    s.append(R"({"object":"embedding","index":)");
    AppendInt(s, static_cast<int64_t>(i));
    s.append(R"(,"embedding":)");
    if (body.base64) {
      std::vector<unsigned char> le(vec.size() * 4);
      for (std::size_t d = 0; d < vec.size(); ++d) {
        uint32_t bits;
        std::memcpy(&bits, &vec[d], 4);
        for (int b = 0; b < 4; ++b) le[d * 4 + b] = static_cast<unsigned char>(bits >> (8 * b));
      }
      s.push_back('"');
      AppendBase64(s, le.data(), le.size());
      s.push_back('"');
    } else {
      s.push_back('[');
      for (std::size_t d = 0; d < vec.size(); ++d) {
        if (d > 0) s.push_back(',');
        fmt::format_to(std::back_inserter(s), "{}", vec[d]);
      }
      s.push_back(']');
    }
    s.push_back('}');
  }
  s.append(R"(],"model":)");
  AppendJsonString(s, body.model);
  if (!(x.overrides.faults & kNoUsage)) {
    int64_t tokens = std::max<int64_t>(1, body.input_units / 4);
    s.append(R"(,"usage":{"prompt_tokens":)");
    AppendInt(s, tokens);
    s.append(R"(,"total_tokens":)");
    AppendInt(s, tokens);
    s.push_back('}');
  }
  s.push_back('}');
  if (x.overrides.faults & kMalformed) s.resize(s.size() / 2);
  PlanJson(plan, x, 200);
}

struct ModelInfo {
  std::string_view id;
  int64_t created;
  std::string_view owned_by;
};
constexpr ModelInfo kModels[] = {
    {"gpt-4o", 1715367049, "system"},
    {"gpt-4o-mini", 1721172741, "system"},
    {"gpt-4.1", 1744316542, "system"},
    {"gpt-4.1-mini", 1744318173, "system"},
    {"gpt-4.1-nano", 1744321707, "system"},
    {"o3-mini", 1737146383, "system"},
    {"text-embedding-3-small", 1705948997, "system"},
    {"text-embedding-3-large", 1705953180, "system"},
};

void AppendModel(std::string& out, const ModelInfo& m) {
  out.append(R"({"id":)");
  AppendJsonString(out, m.id);
  out.append(R"(,"object":"model","created":)");
  AppendInt(out, m.created);
  out.append(R"(,"owned_by":)");
  AppendJsonString(out, m.owned_by);
  out.push_back('}');
}

void PlanModels(Plan& plan, Exchange& x, std::string_view id) {
  std::string& s = x.scratch;
  s.clear();
  if (id.empty()) {
    s.append(R"({"object":"list","data":[)");
    for (const ModelInfo& m : kModels) {
      if (&m != kModels) s.push_back(',');
      AppendModel(s, m);
    }
    s.append("]}");
    PlanJson(plan, x, 200);
    return;
  }
  for (const ModelInfo& m : kModels) {
    if (m.id == id) {
      AppendModel(s, m);
      PlanJson(plan, x, 200);
      return;
    }
  }
  PlanError(plan, x,
            {404, fmt::format("The model '{}' does not exist or you do not have access to it.", id),
             "invalid_request_error", "", "model_not_found"});
}

// Per-connection scratch the planner reuses across requests.
struct Scratch {
  Exchange exchange;
  Body body;
};

// Turns one request into a plan. Never blocks; may modify req.body() (padding).
void BuildPlan(State& state, Request& req, Scratch& scratch, Plan& plan) {
  plan.Clear();
  Exchange& x = scratch.exchange;
  x.http11 = req.version() >= 11;
  x.keep_alive = req.keep_alive();
  x.overrides = ReadOverrides(state.options, req);
  x.prompt_tokens = std::max<int64_t>(1, static_cast<int64_t>(req.body().size() / 4));
  x.created = static_cast<int64_t>(std::time(nullptr));
  uint64_t serial = state.next_id.fetch_add(1, std::memory_order_relaxed);
  x.request_id.assign("req_mock");
  fmt::format_to(std::back_inserter(x.request_id), "{:016x}", serial);
  if (!state.options.random_faults.empty() && req.method() == http::verb::post &&
      x.overrides.status == 0 && x.overrides.faults == 0) {
    if (const RandomFault* f = PickRandomFault(state.options, serial)) {
      state.injected.fetch_add(1, std::memory_order_relaxed);
      if (f->status >= 400 && f->status <= 599)
        x.overrides.status = f->status;
      else
        x.overrides.faults = ParseFaults(f->faults);
    }
  }
  const Overrides& o = x.overrides;

  if (o.faults & (kResetBefore | kStallBefore)) {
    plan.Segment(o.latency);
    plan.end = (o.faults & kResetBefore) ? End::kReset : End::kStall;
    return;
  }

  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  http::verb method = req.method();
  enum class Route { kChat, kText, kEmbeddings, kModels, kStats, kNone } route = Route::kNone;
  std::string_view model_id;
  constexpr std::string_view kModelPrefix = "/v1/models/";
  if (method == http::verb::post && path == "/v1/chat/completions") {
    route = Route::kChat;
  } else if (method == http::verb::post && path == "/v1/completions") {
    route = Route::kText;
  } else if (method == http::verb::post && path == "/v1/embeddings") {
    route = Route::kEmbeddings;
  } else if (method == http::verb::get && path == "/v1/models") {
    route = Route::kModels;
  } else if (method == http::verb::get && path.size() > kModelPrefix.size() &&
             path.substr(0, kModelPrefix.size()) == kModelPrefix) {
    route = Route::kModels;
    model_id = path.substr(kModelPrefix.size());
  } else if (method == http::verb::get && path == "/mock/stats") {
    route = Route::kStats;
  }
  if (route == Route::kNone) {
    PlanError(plan, x,
              {404, fmt::format("Invalid URL ({} {})", req.method_string(), path),
               "invalid_request_error", "", "not_found"});
    return;
  }
  if (o.status != 0) {
    PlanError(plan, x, ErrorForStatus(o.status));
    return;
  }
  if (route == Route::kModels) {
    PlanModels(plan, x, model_id);
    return;
  }
  if (route == Route::kStats) {
    x.scratch = fmt::format(
        R"({{"connections_accepted":{},"requests_served":{},"open_connections":{},)"
        R"("faults_injected":{}}})",
        state.accepted.load(), state.served.load(), state.open.load(), state.injected.load());
    PlanJson(plan, x, 200);
    return;
  }

  Body& body = scratch.body;
  if (auto error = ParseBody(req.body(), body)) {
    PlanError(plan, x, *error);
    return;
  }
  if (!body.has_model) {
    PlanError(plan, x, {400, "you must provide a model parameter"});
    return;
  }
  std::string_view missing = route == Route::kChat && !body.has_messages      ? "messages"
                             : route == Route::kText && !body.has_prompt      ? "prompt"
                             : route == Route::kEmbeddings && !body.has_input ? "input"
                                                                              : "";
  if (!missing.empty()) {
    PlanError(plan, x,
              {400, fmt::format("Missing required parameter: '{}'.", missing),
               "invalid_request_error", missing, "missing_required_parameter"});
    return;
  }
  x.id.assign(route == Route::kChat ? "chatcmpl-mock" : route == Route::kText ? "cmpl-mock" : "");
  fmt::format_to(std::back_inserter(x.id), "{:016x}", serial);
  if (route == Route::kEmbeddings) {
    PlanEmbeddings(plan, x, body);
  } else {
    PlanCompletion(plan, x, body, route == Route::kChat ? Kind::kChat : Kind::kText);
  }
}

// ---------------------------------------------------------------------------------------
// Connections.

Socket& LowestLayer(Socket& s) { return s; }
Socket& LowestLayer(TlsStream& s) { return s.next_layer(); }

struct OpenConnection {
  explicit OpenConnection(State& s) : state(s) { state.open.fetch_add(1); }
  ~OpenConnection() { state.open.fetch_sub(1); }
  State& state;
};

template <typename Stream>
asio::awaitable<void> ServeHttp(std::shared_ptr<State> state, Stream stream) {
  const MockOptions& options = state->options;
  Timer timer(stream.get_executor());
  beast::flat_buffer buffer;
  std::string body_storage;
  Scratch scratch;
  Plan plan;
  char sink[4096];
  for (;;) {
    body_storage.clear();
    http::request_parser<http::string_body> parser(std::piecewise_construct,
                                                   std::make_tuple(std::move(body_storage)));
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(options.max_body_bytes);
    boost::system::error_code ec;
    std::size_t n = 0;
    std::tie(ec, n) = co_await http::async_read_header(stream, buffer, parser);
    if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      std::tie(ec, n) = co_await asio::async_write(stream, asio::buffer(kContinue));
      if (ec) co_return;
    }
    if (!ec && !parser.is_done()) {
      std::tie(ec, n) = co_await http::async_read(stream, buffer, parser);
    }
    if (!ec) {
      Request& req = parser.get();
      state->served.fetch_add(1, std::memory_order_relaxed);
      state->recorder.Record(req);
      BuildPlan(*state, req, scratch, plan);
      body_storage = std::move(req.body());
    } else if (ec.category() != http::make_error_code(http::error::header_limit).category() ||
               ec == http::error::end_of_stream || ec == http::error::partial_message) {
      co_return;  // a socket error, or the client went away
    } else {      // an unacceptable request: answer it, then close
      ErrorInfo error{400, "Bad HTTP request: " + ec.message()};
      if (ec == http::error::header_limit) {
        error = {431, "Request header fields too large."};
      } else if (ec == http::error::body_limit) {
        error = {413, fmt::format("Request body larger than {} bytes.", options.max_body_bytes)};
      }
      Exchange& x = scratch.exchange;
      x.http11 = true;
      x.keep_alive = false;
      x.overrides = Overrides{};
      x.request_id = "req_mock_rejected";
      plan.Clear();
      PlanError(plan, x, error);
    }

    // Execute the plan: each segment after its delay, then end the exchange.
    for (std::size_t i = 0; i < plan.segments.size(); ++i) {
      if (plan.segments[i].delay.count() > 0) {
        timer.expires_after(plan.segments[i].delay);
        std::tie(ec) = co_await timer.async_wait();
        if (ec) co_return;
      }
      std::size_t begin = plan.segments[i].begin;
      std::size_t end =
          i + 1 < plan.segments.size() ? plan.segments[i + 1].begin : plan.bytes.size();
      if (end > begin) {
        std::tie(ec, n) = co_await asio::async_write(
            stream, asio::buffer(plan.bytes.data() + begin, end - begin));
        if (ec) co_return;
      }
    }
    Socket& socket = LowestLayer(stream);
    switch (plan.end) {
      case End::kKeepAlive:
        continue;
      case End::kClose: {
        // Lingering close: drain what the client still sends (say the rest of a rejected
        // body) so that closing does not reset the connection and lose the response.
        socket.shutdown(tcp::socket::shutdown_send, ec);
        timer.expires_after(kLingerTime);
        for (std::size_t drained = 0; drained < kMaxDrainBytes;) {
          auto result = co_await (stream.async_read_some(asio::buffer(sink)) || timer.async_wait());
          if (result.index() != 0 || std::get<0>(std::get<0>(result))) break;
          drained += std::get<1>(std::get<0>(result));
        }
        co_return;
      }
      case End::kReset:
        socket.set_option(asio::socket_base::linger(true, 0), ec);
        socket.close(ec);
        co_return;
      case End::kStall:
        for (;;) {  // until the client closes (or Stop() destroys this coroutine)
          std::tie(ec, n) = co_await stream.async_read_some(asio::buffer(sink));
          if (ec) co_return;
        }
    }
  }
}

asio::awaitable<void> ServeConnection(std::shared_ptr<State> state, Socket socket) {
  OpenConnection open(*state);
  if (state->ssl) {
    TlsStream stream(std::move(socket), *state->ssl);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server);
    if (ec) co_return;
    co_await ServeHttp(state, std::move(stream));
  } else {
    co_await ServeHttp(state, std::move(socket));
  }
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<State> state) {
  Acceptor& acceptor = *state->acceptor;
  bool strands = state->options.threads > 1;
  Timer backoff(acceptor.get_executor());
  for (;;) {
    asio::any_io_executor executor = strands ? asio::any_io_executor(asio::make_strand(*state->ioc))
                                             : asio::any_io_executor(state->ioc->get_executor());
    Socket socket(executor);
    auto [ec] = co_await acceptor.async_accept(socket);
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {  // e.g. out of file descriptors: back off instead of spinning
      backoff.expires_after(Ms(10));
      co_await backoff.async_wait();
      continue;
    }
    state->accepted.fetch_add(1, std::memory_order_relaxed);
    socket.set_option(tcp::no_delay(true), ec);
    asio::any_io_executor connection_executor = socket.get_executor();
    asio::co_spawn(connection_executor, ServeConnection(state, std::move(socket)), asio::detached);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------

MockUpstream::MockUpstream(MockOptions options)
    : state_(std::make_shared<State>(std::move(options))) {}

MockUpstream::~MockUpstream() { Stop(); }

void MockUpstream::Start() {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle_mu);
  if (s.started) throw std::logic_error("MockUpstream::Start called twice");
  s.started = true;
  const MockOptions& o = s.options;
  int threads = std::max(1, o.threads);
  s.ioc = std::make_unique<asio::io_context>(threads);
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty()) {
      throw std::invalid_argument("mock upstream: TLS needs both a cert and a key file");
    }
    s.ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3);
    s.ssl->use_certificate_chain_file(o.tls_cert_file);
    s.ssl->use_private_key_file(o.tls_key_file, asio::ssl::context::pem);
  }
  tcp::endpoint endpoint(asio::ip::make_address(o.address), o.port);
  s.acceptor.emplace(*s.ioc);
  s.acceptor->open(endpoint.protocol());
  s.acceptor->set_option(asio::socket_base::reuse_address(true));
  s.acceptor->bind(endpoint);
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.port = s.acceptor->local_endpoint().port();
  asio::co_spawn(*s.ioc, AcceptLoop(state_), asio::detached);
  for (int i = 0; i < threads; ++i) {
    s.threads.emplace_back([ioc = s.ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          std::cerr << "switchyard-mock: handler threw: " << e.what() << "\n";
        }
      }
    });
  }
}

void MockUpstream::Stop() {
  State& s = *state_;
  std::lock_guard lock(s.lifecycle_mu);
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.ioc->stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  // Nothing runs now: closing the acceptor and destroying the io_context destroys every
  // suspended connection coroutine, which closes its socket.
  boost::system::error_code ignored;
  s.acceptor->close(ignored);
  s.acceptor.reset();
  s.ioc.reset();
}

uint16_t MockUpstream::port() const { return state_->port; }
bool MockUpstream::tls() const {
  return !state_->options.tls_cert_file.empty() && !state_->options.tls_key_file.empty();
}
uint64_t MockUpstream::connections_accepted() const { return state_->accepted.load(); }
uint64_t MockUpstream::requests_served() const { return state_->served.load(); }
uint64_t MockUpstream::faults_injected() const { return state_->injected.load(); }
int MockUpstream::open_connections() const { return state_->open.load(); }
std::vector<RecordedRequest> MockUpstream::recorded_requests() const {
  return state_->recorder.Snapshot();
}
void MockUpstream::ClearRecordedRequests() { state_->recorder.Clear(); }

}  // namespace switchyard::mock
