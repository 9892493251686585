// One JSON line per request (request id, route, model, upstream, status, duration, bytes),
// written with a single write(2) so lines from many threads never interleave. Never holds
// a key or prompt text. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

struct AccessLogEntry {
  std::string_view request_id;
  std::string_view method;
  std::string_view path;  // without the query string
  std::string_view profile;  // the routing profile asked for, "" for an explicit model
  std::string_view model;
  std::string_view upstream;
  unsigned status = 0;
  double duration_ms = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool stream = false;
  std::string_view error;  // error code, "" when none
};

class AccessLog {
 public:
  explicit AccessLog(int fd) : fd_(fd) {}  // -1: off
  void Write(const AccessLogEntry& entry) const;
  static std::string Format(const AccessLogEntry& entry);

 private:
  int fd_;
};

}  // namespace switchyard
