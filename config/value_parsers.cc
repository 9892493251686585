#include "config/value_parsers.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <span>
#include <utility>
#include <vector>

namespace switchyard::config {
namespace {

void SetError(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

bool IsIpAddress(const std::string& text, int family) {
  unsigned char buf[16];
  return inet_pton(family, text.c_str(), buf) == 1;
}

// "<digits><optional spaces><unit>" -> digits * the unit's scale; nullopt on overflow.
std::optional<uint64_t> ScaledNumber(std::string_view text,
                                     std::span<const std::pair<std::string_view, uint64_t>> units) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  std::string_view unit(end, text.data() + text.size() - end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  for (const auto& [name, scale] : units) {
    if (unit != name) continue;
    if (value > std::numeric_limits<uint64_t>::max() / scale) return std::nullopt;
    return value * scale;
  }
  return std::nullopt;
}

}  // namespace

bool IsEnvVarName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

bool IsIpLiteral(std::string_view text) {
  const std::string s(text);
  return IsIpAddress(s, AF_INET) || IsIpAddress(s, AF_INET6);
}

Url ParseBaseUrl(std::string_view text, std::string* error) {
  auto fail = [error](std::string message) {
    SetError(error, std::move(message));
    return Url{};
  };
  Url url;
  const auto scheme_end = text.find("://");
  if (scheme_end != std::string_view::npos) url.scheme = Lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https")
    return fail("must start with http:// or https://");
  std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail("must not have a query or fragment");
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos)
    return fail("must not contain user info; use api_key_env or headers for credentials");

  std::string_view port;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unterminated [IPv6] address");
    url.host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return fail("has unexpected characters after the [IPv6] address");
    has_port = !after.empty();
    port = has_port ? after.substr(1) : "";
    if (!IsIpAddress(url.host, AF_INET6)) return fail("has an invalid IPv6 address");
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos)
      return fail("must put an IPv6 address in brackets, e.g. http://[::1]:8000");
    has_port = colon != std::string_view::npos;
    url.host = authority.substr(0, colon);
    port = has_port ? authority.substr(colon + 1) : "";
    if (!std::all_of(url.host.begin(), url.host.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '-' || c == '.' || c == '_';
        }))
      return fail("has an invalid host name");
  }
  if (url.host.empty()) return fail("must have a host");

  url.port = url.tls() ? 443 : 80;
  if (has_port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || port.empty() || value == 0 ||
        value > 65535)
      return fail("port must be between 1 and 65535");
    url.port = static_cast<uint16_t>(value);
  }
  if (std::any_of(path.begin(), path.end(), [](char c) { return c == ' ' || IsControl(c); }))
    return fail("path must not contain spaces or control characters");
  while (path.ends_with('/')) path.remove_suffix(1);
  url.path_prefix = path;
  if (error != nullptr) error->clear();
  return url;
}

std::optional<Duration> ParseDuration(std::string_view text, std::string* error) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  // Durations are added to steady_clock time points, in nanoseconds: a year keeps that far from
  // overflow (at about 292 years) and is longer than any timeout or interval needs.
  static constexpr uint64_t kMaxMillis = 365ULL * 24 * 3'600'000;
  auto millis = ScaledNumber(text, kUnits);
  if (!millis) {
    SetError(error, "must be a duration such as 250ms, 5s, 2m or 1h (a bare number is seconds)");
    return std::nullopt;
  }
  if (*millis > kMaxMillis) {
    SetError(error, "must be at most a year (8760h)");
    return std::nullopt;
  }
  return Duration(static_cast<Duration::rep>(*millis));
}

std::optional<std::size_t> ParseSize(std::string_view text, std::string* error) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1}, {"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30}};
  auto bytes = ScaledNumber(text, kUnits);
  if (!bytes || *bytes > std::numeric_limits<std::size_t>::max()) {
    SetError(error, "must be a size such as 16384, 512KiB or 8MiB");
    return std::nullopt;
  }
  return static_cast<std::size_t>(*bytes);
}

std::optional<std::int64_t> ParseInt(std::string_view text, std::int64_t min, std::int64_t max,
                                     std::string* error) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::invalid_argument || end != text.data() + text.size() || text.empty()) {
    SetError(error, "must be an integer");
  } else if (ec == std::errc::result_out_of_range || value < min || value > max) {
    SetError(error, max >= std::numeric_limits<int>::max()
                        ? fmt::format("must be at least {}", min)
                        : fmt::format("must be between {} and {}", min, max));
  } else {
    return value;
  }
  return std::nullopt;
}

std::optional<bool> ParseBool(std::string_view text, std::string* error) {
  const std::string value = Lower(text);
  if (value == "true" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "no" || value == "off") return false;
  SetError(error, "must be true or false");
  return std::nullopt;
}

std::optional<std::int64_t> ParseTokenCount(std::string_view text, std::string* error) {
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1}, {"k", 1000}, {"K", 1000}, {"M", 1'000'000}};
  auto count = ScaledNumber(text, kUnits);
  if (!count || *count > static_cast<uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    SetError(error, "must be a number of tokens such as 128000, 128k or 1M");
    return std::nullopt;
  }
  return static_cast<std::int64_t>(*count);
}

std::optional<double> ParseNumber(std::string_view text, std::string* error) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() ||
      !std::isfinite(value)) {
    SetError(error, "must be a number such as 0.15");
    return std::nullopt;
  }
  return value;
}

std::optional<ModelKind> ParseModelKind(std::string_view text, std::string* error) {
  for (ModelKind kind : {ModelKind::kCloud, ModelKind::kEdge, ModelKind::kSelfHosted})
    if (text == ModelKindName(kind)) return kind;
  SetError(error, "must be cloud, edge or self-hosted");
  return std::nullopt;
}

std::string_view ModelKindName(ModelKind kind) {
  switch (kind) {
    case ModelKind::kCloud:
      return "cloud";
    case ModelKind::kEdge:
      return "edge";
    case ModelKind::kSelfHosted:
      return "self-hosted";
  }
  return "unknown";
}

const char* NameProblem(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (std::any_of(name.begin(), name.end(),
                  [](char c) { return c == '"' || c == '\\' || IsControl(c); }))
    return "must not contain quotes, backslashes or control characters";
  return nullptr;
}

bool IsHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
  });
}

const char* ForbiddenHeaderReason(std::string_view name) {
  static const std::map<std::string, const char*, std::less<>> kForbidden = {
      {"host", "the proxy sets Host from base_url"},
      {"authorization", "the proxy sets Authorization from api_key_env"},
      {"content-length", "the proxy sets Content-Length from the request body"},
      {"transfer-encoding", "the proxy sets Transfer-Encoding from the request body"},
      {"connection", "Connection is a hop-by-hop header managed by the proxy"},
      {"keep-alive", "Keep-Alive is a hop-by-hop header managed by the proxy"},
      {"proxy-connection", "Proxy-Connection is a hop-by-hop header managed by the proxy"},
      {"proxy-authenticate", "Proxy-Authenticate is a hop-by-hop header"},
      {"proxy-authorization", "Proxy-Authorization is a hop-by-hop header"},
      {"te", "TE is a hop-by-hop header managed by the proxy"},
      {"trailer", "Trailer is a hop-by-hop header managed by the proxy"},
      {"upgrade", "Upgrade is a hop-by-hop header managed by the proxy"},
  };
  auto it = kForbidden.find(Lower(name));
  return it == kForbidden.end() ? nullptr : it->second;
}

std::optional<std::string> Interpolate(std::string_view text, const EnvLookup& env,
                                       std::string* error) {
  std::string out;
  std::vector<std::string> unset;
  for (std::size_t i = 0; i < text.size();) {
    std::string_view rest = text.substr(i);
    if (rest.starts_with("$${")) {
      out += "${";
      i += 3;
    } else if (!rest.starts_with("${")) {
      out += text[i++];
    } else {
      const auto close = rest.find('}');
      if (close == std::string_view::npos) {
        SetError(error, "has an unterminated ${ (write $${ for a literal ${)");
        return std::nullopt;
      }
      const std::string name(rest.substr(2, close - 2));
      if (!IsEnvVarName(name)) {
        SetError(error, fmt::format("${{{}}} is not a valid environment variable name", name));
        return std::nullopt;
      }
      if (auto value = env(name)) {
        out += *value;
      } else if (std::find(unset.begin(), unset.end(), name) == unset.end()) {
        unset.push_back(name);
      }
      i += close + 1;
    }
  }
  if (unset.empty()) return out;
  SetError(error,
           unset.size() == 1
               ? fmt::format("environment variable {} is not set", unset.front())
               : fmt::format("environment variables {} are not set", fmt::join(unset, ", ")));
  return std::nullopt;
}

}  // namespace switchyard::config
