#include "bench/load/load_common.h"

#include <strings.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <sstream>

namespace switchyard::load {

namespace http = beast::http;

std::optional<Target> ParseUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  url.remove_prefix(kScheme.size());
  Target t;
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const std::size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) {
    t.host = std::string(authority);
  } else {
    t.host = std::string(authority.substr(0, colon));
    try {
      int port = std::stoi(std::string(authority.substr(colon + 1)));
      if (port <= 0 || port > 65535) return std::nullopt;
      t.port = static_cast<uint16_t>(port);
    } catch (...) {
      return std::nullopt;
    }
  }
  if (t.host.empty()) return std::nullopt;
  return t;
}

std::string BuildPost(const Target& target, const std::vector<std::string>& headers,
                      const std::string& body) {
  std::string r = "POST " + target.path + " HTTP/1.1\r\nHost: " + target.host + ":" +
                  std::to_string(target.port) + "\r\n";
  bool content_type = false;
  for (const auto& h : headers) {
    r += h + "\r\n";
    if (h.size() >= 13 && strncasecmp(h.c_str(), "content-type:", 13) == 0) content_type = true;
  }
  if (!content_type) r += "Content-Type: application/json\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

bool ParseRequestsFile(std::string_view text, std::vector<RequestSpec>* out, std::string* error) {
  out->clear();
  RequestSpec pending;
  bool labelled = false;
  int line_no = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '[' && line.back() == ']' && line.size() > 2) {
      if (labelled || !pending.headers.empty()) {
        *error =
            "line " + std::to_string(line_no) + ": request '" + pending.label + "' has no body";
        return false;
      }
      pending.label = std::string(line.substr(1, line.size() - 2));
      labelled = true;
    } else if (line.front() == '{') {
      pending.body = std::string(line);
      if (!labelled) pending.label = "#" + std::to_string(out->size() + 1);
      out->push_back(std::move(pending));
      pending = RequestSpec{};
      labelled = false;
    } else if (const std::size_t colon = line.find(':');
               colon != std::string_view::npos && colon > 0 &&
               line.substr(0, colon).find(' ') == std::string_view::npos) {
      pending.headers.emplace_back(line);
    } else {
      *error =
          "line " + std::to_string(line_no) + ": neither [label], 'Name: value' nor a JSON body";
      return false;
    }
  }
  if (labelled || !pending.headers.empty()) {
    *error = "request '" + pending.label + "' at the end has no body";
    return false;
  }
  if (out->empty()) {
    *error = "no request in the file";
    return false;
  }
  return true;
}

asio::awaitable<ResponseResult> ReadResponse(tcp::socket* socket, beast::flat_buffer* buffer,
                                             BodySink* sink) {
  ResponseResult result;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(64 * 1024);
  auto [ec, n] = co_await http::async_read_header(*socket, *buffer, parser, kAwait);
  if (ec) {
    result.ec = ec;
    co_return result;
  }
  result.status = parser.get().result_int();
  result.keep_alive = parser.get().keep_alive();
  std::array<char, 16 * 1024> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [rec, rn] = co_await http::async_read_some(*socket, *buffer, parser, kAwait);
    if (rec == http::error::need_buffer) rec = {};
    if (rec) {
      result.ec = rec;
      co_return result;
    }
    const std::size_t got = chunk.size() - parser.get().body().size;
    if (got > 0) {
      const auto at = Clock::now();
      if (!result.first_body_byte) result.first_body_byte = at;
      if (sink) sink->OnBody(std::string_view(chunk.data(), got), at);
    }
  }
  result.keep_alive = parser.get().keep_alive();
  co_return result;
}

Summary Summarize(std::vector<uint32_t> values) {
  Summary s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(s.count);
  auto rank = [&](double p) {
    std::size_t r = static_cast<std::size_t>(p / 100.0 * static_cast<double>(s.count) + 0.5);
    r = std::clamp<std::size_t>(r, 1, s.count);
    return static_cast<uint64_t>(values[r - 1]);
  };
  s.min = values.front();
  s.p50 = rank(50);
  s.p90 = rank(90);
  s.p99 = rank(99);
  s.p999 = rank(99.9);
  s.max = values.back();
  return s;
}

std::string SummaryJson(const Summary& s) {
  char out[256];
  std::snprintf(out, sizeof out,
                R"({"count":%zu,"mean":%.1f,"min":%llu,"p50":%llu,"p90":%llu,"p99":%llu,)"
                R"("p999":%llu,"max":%llu})",
                s.count, s.mean, static_cast<unsigned long long>(s.min),
                static_cast<unsigned long long>(s.p50), static_cast<unsigned long long>(s.p90),
                static_cast<unsigned long long>(s.p99), static_cast<unsigned long long>(s.p999),
                static_cast<unsigned long long>(s.max));
  return out;
}

static std::vector<int> ChildrenOf(int pid) {
  std::vector<int> kids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    const std::size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 2));
    std::string state;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == pid) kids.push_back(std::stoi(name));
  }
  return kids;
}

void ProcWatch::Add(std::string label, int pid) {
  Watched w{std::move(label), {pid}};
  for (int kid : ChildrenOf(pid)) w.pids.push_back(kid);
  watched_.push_back(std::move(w));
}

static uint64_t ProcTicks(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  const std::size_t paren = line.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream rest(line.substr(paren + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14, 15: utime, stime
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return utime + stime;
}

static uint64_t ProcRssKb(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

std::vector<std::pair<std::string, uint64_t>> ProcWatch::Ticks() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& w : watched_) {
    uint64_t t = 0;
    for (int pid : w.pids) t += ProcTicks(pid);
    out.emplace_back(w.label, t);
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> ProcWatch::RssKb() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& w : watched_) {
    uint64_t kb = 0;
    for (int pid : w.pids) kb += ProcRssKb(pid);
    out.emplace_back(w.label, kb);
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string LabelsJson(const std::vector<std::pair<std::string, uint64_t>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    out += JsonString(values[i].first) + ":" + std::to_string(values[i].second);
  }
  return out + "}";
}

uint32_t Micros(Clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us < 0) return 0;
  if (us > std::numeric_limits<uint32_t>::max()) return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(us);
}

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace switchyard::load
