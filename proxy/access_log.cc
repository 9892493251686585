#include "proxy/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>

#include "proxy/openai/errors.h"

namespace switchyard {

static void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":\"";
  openai::AppendJsonEscaped(out, value);
  out += '"';
}

std::string AccessLog::Format(const AccessLogEntry& e) {
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now());
  std::string out = fmt::format(R"({{"time":"{:%FT%T}Z")", now);
  AppendField(out, "request_id", e.request_id);
  AppendField(out, "method", e.method);
  AppendField(out, "path", e.path);
  if (!e.profile.empty()) AppendField(out, "profile", e.profile);
  AppendField(out, "model", e.model);
  AppendField(out, "upstream", e.upstream);
  out += fmt::format(R"(,"status":{},"duration_ms":{:.3f},"bytes_in":{},"bytes_out":{},"stream":{})",
                     e.status, e.duration_ms, e.bytes_in, e.bytes_out, e.stream);
  if (!e.error.empty()) AppendField(out, "error", e.error);
  out += "}\n";
  return out;
}

void AccessLog::Write(const AccessLogEntry& entry) const {
  if (fd_ < 0) return;
  const std::string line = Format(entry);
  // A short write to a pipe or file is not retried: losing a log line beats blocking a worker.
  [[maybe_unused]] ssize_t n = ::write(fd_, line.data(), line.size());
}

}  // namespace switchyard
