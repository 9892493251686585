#include "config/config_loader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/sha.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

namespace switchyard::config {
namespace {

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

std::string_view KindOf(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "a single value";
  return "empty";
}

// Walks the YAML tree once, filling a Config and collecting every problem on the way.
class Loader {
 public:
  explicit Loader(const EnvLookup& env) : env_(env) {}

  Config Load(const YAML::Node& root);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  using KeySet = std::set<std::string, std::less<>>;
  using Visitor =
      std::function<void(std::string_view key, const YAML::Node& value, const std::string& path)>;

  void Problem(const std::string& path, std::string_view message) {
    problems_.push_back(fmt::format("{}: {}", path.empty() ? "(root)" : path, message));
  }
  bool Fail(const std::string& path, std::string_view message) {
    Problem(path, message);
    return false;
  }
  // Reports a missing key, unless the node was not a map (already reported).
  void Require(const std::optional<KeySet>& seen, const std::string& path, std::string_view key) {
    if (seen && !seen->contains(key)) Problem(Child(path, key), "is required");
  }

  // Visits each entry of a map (null counts as empty), reporting unknown and duplicate
  // keys; returns the keys seen, or nullopt if the node is not a map.
  std::optional<KeySet> ForEachKey(const YAML::Node& node, const std::string& path,
                                   std::initializer_list<std::string_view> known,
                                   const Visitor& visit);
  // The interpolated value of a scalar, or nullopt after reporting why there is none.
  std::optional<std::string> Scalar(const YAML::Node& node, const std::string& path,
                                    std::string_view what);

  void ReadString(const YAML::Node& node, const std::string& path, std::string* out);
  // The typed readers leave *out unchanged and return false after reporting a problem.
  template <typename T>
  bool ReadInt(const YAML::Node& node, const std::string& path, int64_t min, int64_t max, T* out);
  bool ReadTokens(const YAML::Node& node, const std::string& path, std::int64_t* out);
  bool ReadKind(const YAML::Node& node, const std::string& path, ModelKind* out);
  void ReadPrice(const YAML::Node& node, const std::string& path, double* out);
  void ReadSize(const YAML::Node& node, const std::string& path, std::size_t* out);
  void ReadDuration(const YAML::Node& node, const std::string& path, Duration* out);
  void ReadBool(const YAML::Node& node, const std::string& path, bool* out);

  void ReadListener(const YAML::Node& node, const std::string& path, Listener* out);
  void ReadUpstream(const YAML::Node& node, const std::string& path, Upstream* out);
  void ReadTimeouts(const YAML::Node& node, const std::string& path, UpstreamTimeouts* out);
  void ReadCircuitBreaker(const YAML::Node& node, const std::string& path, CircuitBreaker* out);
  void ReadHealthCheck(const YAML::Node& node, const std::string& path, HealthCheck* out);
  void ReadHeaders(const YAML::Node& node, const std::string& path,
                   std::vector<std::pair<std::string, std::string>>* out);
  // The value of the environment variable `name` holds a secret: messages name the variable.
  std::optional<std::string> ResolveSecret(const std::string& path, const std::string& name);
  void ReadAccounting(const YAML::Node& node, const std::string& path, Accounting* out);
  void ReadClientKey(const YAML::Node& node, const std::string& path, ClientKey* out);
  void ReadBudget(const YAML::Node& node, const std::string& path, const Config& config,
                  Budget* out);
  void ResolveBaselines(Config* config);
  void ReadModel(const YAML::Node& node, const std::string& path, const Config& config, Model* out);
  void ReadUpstreamRef(const YAML::Node& node, const std::string& path, const Config& config,
                       Model* out);
  void ReadPrices(const YAML::Node& node, const std::string& path, Prices* out);
  void ReadCapabilities(const YAML::Node& node, const std::string& path, Capabilities* out);
  void ReadProfiles(const std::optional<YAML::Node>& node, Config* config);
  void ReadProfile(const YAML::Node& node, const std::string& path, Profile* out);
  void ReadThresholds(const YAML::Node& node, const std::string& path, std::vector<double>* out);
  void ReadShares(const YAML::Node& node, const std::string& path, std::vector<double>* out);
  void ReadKinds(const YAML::Node& node, const std::string& path, std::vector<ModelKind>* out);
  // Whether a model of an allowed kind reaches the profile's highest tier.
  static bool Servable(const Profile& profile, const Config& config);
  // Calls read(item, path) for each item of a required, non-empty list.
  void ForEachItem(const std::optional<YAML::Node>& node, const std::string& path,
                   const std::function<void(const YAML::Node&, const std::string&)>& read);

  const EnvLookup& env_;
  std::vector<std::string> problems_;
  // A tier, kind or threshold could not be read: routing checks would only add noise.
  bool routing_unreadable_ = false;
};

std::optional<Loader::KeySet> Loader::ForEachKey(const YAML::Node& node, const std::string& path,
                                                 std::initializer_list<std::string_view> known,
                                                 const Visitor& visit) {
  KeySet seen;
  if (node.IsNull()) return seen;
  if (!node.IsMap()) {
    Problem(path, fmt::format("must be a map, not {}", KindOf(node)));
    return std::nullopt;
  }
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      Problem(path, "keys must be plain strings");
      continue;
    }
    const std::string& key = entry.first.Scalar();
    const std::string key_path = Child(path, key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      Problem(key_path, fmt::format("unknown key (expected one of: {})", fmt::join(known, ", ")));
    } else if (!seen.insert(key).second) {
      Problem(key_path, "duplicate key");
    } else {
      visit(key, entry.second, key_path);
    }
  }
  return seen;
}

std::optional<std::string> Loader::Scalar(const YAML::Node& node, const std::string& path,
                                          std::string_view what) {
  if (!node.IsScalar()) {
    Problem(path, fmt::format("must be {}, not {}", what, KindOf(node)));
    return std::nullopt;
  }
  std::string error;
  auto value = Interpolate(node.Scalar(), env_, &error);
  if (!value) Problem(path, error);
  return value;
}

void Loader::ReadString(const YAML::Node& node, const std::string& path, std::string* out) {
  if (auto value = Scalar(node, path, "a string")) *out = std::move(*value);
}

template <typename T>
bool Loader::ReadInt(const YAML::Node& node, const std::string& path, int64_t min, int64_t max,
                     T* out) {
  auto text = Scalar(node, path, "an integer");
  if (!text) return false;
  std::string error;
  auto value = ParseInt(*text, min, max, &error);
  if (!value) return Fail(path, error);
  *out = static_cast<T>(*value);
  return true;
}

bool Loader::ReadTokens(const YAML::Node& node, const std::string& path, std::int64_t* out) {
  auto text = Scalar(node, path, "a number of tokens");
  if (!text) return false;
  std::string error;
  auto value = ParseTokenCount(*text, &error);
  if (!value) return Fail(path, error);
  if (*value == 0) return Fail(path, "must be at least 1");
  *out = *value;
  return true;
}

bool Loader::ReadKind(const YAML::Node& node, const std::string& path, ModelKind* out) {
  auto text = Scalar(node, path, "a model kind");
  if (!text) return false;
  std::string error;
  auto kind = ParseModelKind(*text, &error);
  if (!kind) return Fail(path, error);
  *out = *kind;
  return true;
}

void Loader::ReadPrice(const YAML::Node& node, const std::string& path, double* out) {
  auto text = Scalar(node, path, "a price");
  if (!text) return;
  auto value = ParseNumber(*text);
  if (!value) return Problem(path, "must be a price in USD per 1M tokens, such as 0.15");
  if (*value < 0) return Problem(path, "must not be negative");
  *out = *value;
}

void Loader::ReadSize(const YAML::Node& node, const std::string& path, std::size_t* out) {
  auto text = Scalar(node, path, "a size");
  if (!text) return;
  std::string error;
  auto value = ParseSize(*text, &error);
  if (!value) return Problem(path, error);
  if (*value == 0) return Problem(path, "must be at least 1 byte");
  *out = *value;
}

void Loader::ReadDuration(const YAML::Node& node, const std::string& path, Duration* out) {
  auto text = Scalar(node, path, "a duration");
  if (!text) return;
  std::string error;
  auto value = ParseDuration(*text, &error);
  if (!value) return Problem(path, error);
  if (value->count() == 0) return Problem(path, "must be greater than 0");
  *out = *value;
}

void Loader::ReadBool(const YAML::Node& node, const std::string& path, bool* out) {
  auto text = Scalar(node, path, "true or false");
  if (!text) return;
  std::string error;
  if (auto value = ParseBool(*text, &error))
    *out = *value;
  else
    Problem(path, error);
}

void Loader::ReadListener(const YAML::Node& node, const std::string& path, Listener* out) {
  constexpr int kIntMax = std::numeric_limits<int>::max();
  ForEachKey(node, path,
             {"address", "port", "threads", "max_header_bytes", "max_body_bytes", "max_messages",
              "max_json_depth", "max_connections", "header_timeout", "keep_alive_timeout",
              "shutdown_grace"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               if (key == "address") {
                 ReadString(value, p, &out->address);
                 if (!IsIpLiteral(out->address))
                   Problem(p, "must be an IP address such as 127.0.0.1, 0.0.0.0 or ::");
               } else if (key == "port") {
                 ReadInt(value, p, 0, 65535, &out->port);  // 0: any free port (tests)
               } else if (key == "threads") {
                 ReadInt(value, p, 0, kIntMax, &out->threads);
               } else if (key == "max_header_bytes") {
                 ReadSize(value, p, &out->max_header_bytes);
               } else if (key == "max_body_bytes") {
                 ReadSize(value, p, &out->max_body_bytes);
               } else if (key == "max_messages") {
                 ReadInt(value, p, 1, kIntMax, &out->max_messages);
               } else if (key == "max_json_depth") {
                 // Below 16 ordinary requests fail; past 1024 (simdjson's own default, about
                 // Python's recursion limit) upstream parsers fail first.
                 ReadInt(value, p, 16, 1024, &out->max_json_depth);
               } else if (key == "max_connections") {
                 ReadInt(value, p, 1, kIntMax, &out->max_connections);
               } else if (key == "header_timeout") {
                 ReadDuration(value, p, &out->header_timeout);
               } else if (key == "keep_alive_timeout") {
                 ReadDuration(value, p, &out->keep_alive_timeout);
               } else {
                 ReadDuration(value, p, &out->shutdown_grace);
               }
             });
}

void Loader::ReadUpstream(const YAML::Node& node, const std::string& path, Upstream* out) {
  auto seen = ForEachKey(
      node, path,
      {"name", "base_url", "api_key_env", "headers", "max_connections", "idle_connection_timeout",
       "ca_file", "insecure_skip_verify", "ask_stream_usage", "timeouts", "circuit_breaker",
       "health_check", "max_concurrent", "max_queue", "queue_timeout", "retry_unanswered"},
      [&](std::string_view key, const YAML::Node& value, const std::string& p) {
        if (key == "name") {
          if (auto name = Scalar(value, p, "a string")) {
            out->name = std::move(*name);
            if (const char* problem = NameProblem(out->name)) Problem(p, problem);
          }
        } else if (key == "base_url") {
          if (auto text = Scalar(value, p, "a URL")) {
            std::string error;
            out->base_url = *text;
            out->url = ParseBaseUrl(*text, &error);
            if (!error.empty()) Problem(p, error);
          }
        } else if (key == "api_key_env") {
          ReadString(value, p, &out->api_key_env);
          if (!out->api_key_env.empty())
            if (auto key = ResolveSecret(p, out->api_key_env)) out->api_key = std::move(*key);
        } else if (key == "headers") {
          ReadHeaders(value, p, &out->headers);
        } else if (key == "max_connections") {
          ReadInt(value, p, 1, std::numeric_limits<int>::max(), &out->max_connections);
        } else if (key == "idle_connection_timeout") {
          ReadDuration(value, p, &out->idle_connection_timeout);
        } else if (key == "ca_file") {
          ReadString(value, p, &out->ca_file);
          std::error_code ec;
          if (!out->ca_file.empty() && (!std::ifstream(out->ca_file).good() ||
                                        !std::filesystem::is_regular_file(out->ca_file, ec)))
            Problem(p, "is not a readable file");
        } else if (key == "insecure_skip_verify") {
          ReadBool(value, p, &out->insecure_skip_verify);
        } else if (key == "ask_stream_usage") {
          ReadBool(value, p, &out->ask_stream_usage);
        } else if (key == "circuit_breaker") {
          ReadCircuitBreaker(value, p, &out->circuit_breaker);
        } else if (key == "health_check") {
          ReadHealthCheck(value, p, &out->health_check);
        } else if (key == "max_concurrent") {
          ReadInt(value, p, 0, 1'000'000, &out->max_concurrent);
        } else if (key == "max_queue") {
          ReadInt(value, p, 0, 1'000'000, &out->max_queue);
        } else if (key == "queue_timeout") {
          ReadDuration(value, p, &out->queue_timeout);
        } else if (key == "retry_unanswered") {
          ReadBool(value, p, &out->retry_unanswered);
        } else {
          ReadTimeouts(value, p, &out->timeouts);
        }
      });
  Require(seen, path, "name");
  Require(seen, path, "base_url");
}

void Loader::ReadCircuitBreaker(const YAML::Node& node, const std::string& path,
                                CircuitBreaker* out) {
  ForEachKey(node, path, {"failures", "error_rate", "min_requests", "window", "open_for"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               if (key == "failures") {
                 ReadInt(value, p, 1, 1'000'000, &out->failures);
               } else if (key == "error_rate") {
                 auto text = Scalar(value, p, "a share");
                 auto rate = text ? ParseNumber(*text) : std::nullopt;
                 if (text && (!rate || *rate <= 0 || *rate > 1))
                   Problem(p, "must be a share above 0 and at most 1 (0.5 = half failed)");
                 else if (rate)
                   out->error_rate = *rate;
               } else if (key == "min_requests") {
                 ReadInt(value, p, 1, 1'000'000, &out->min_requests);
               } else if (key == "window") {
                 ReadDuration(value, p, &out->window);
               } else {
                 ReadDuration(value, p, &out->open_for);
               }
             });
}

void Loader::ReadHealthCheck(const YAML::Node& node, const std::string& path, HealthCheck* out) {
  ForEachKey(node, path, {"path", "interval", "timeout"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               if (key == "path") {
                 ReadString(value, p, &out->path);
                 if (out->path.empty() || out->path.front() != '/' ||
                     out->path.find_first_of(" \r\n") != std::string::npos)
                   Problem(p, "must be a path starting with /, such as /models");
               } else if (key == "interval") {
                 ReadDuration(value, p, &out->interval);
               } else {
                 ReadDuration(value, p, &out->timeout);
               }
             });
}

void Loader::ReadTimeouts(const YAML::Node& node, const std::string& path, UpstreamTimeouts* out) {
  ForEachKey(node, path, {"connect", "tls_handshake", "first_byte", "idle", "total"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               Duration* target = key == "connect"         ? &out->connect
                                  : key == "tls_handshake" ? &out->tls_handshake
                                  : key == "first_byte"    ? &out->first_byte
                                  : key == "idle"          ? &out->idle
                                                           : &out->total;
               ReadDuration(value, p, target);
             });
}

void Loader::ReadHeaders(const YAML::Node& node, const std::string& path,
                         std::vector<std::pair<std::string, std::string>>* out) {
  if (node.IsNull()) return;
  if (!node.IsMap()) return Problem(path, "must be a map of header name to value");
  std::set<std::string> seen;  // lower-case: header names are case-insensitive
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) {
      Problem(path, "header names must be plain strings");
      continue;
    }
    const std::string& name = entry.first.Scalar();
    const std::string p = Child(path, name);
    auto value = Scalar(entry.second, p, "a string");
    if (!IsHeaderName(name)) {
      Problem(p, "is not a valid header name");
    } else if (!seen.insert(Lower(name)).second) {
      Problem(p, "duplicate header (names are case-insensitive)");
    } else if (const char* reason = ForbiddenHeaderReason(name)) {
      Problem(p, fmt::format("may not be set here: {}", reason));
    } else if (value && std::any_of(value->begin(), value->end(),
                                    [](char c) { return IsControl(c) && c != '\t'; })) {
      Problem(p, "value must not contain CR, LF or other control characters");
    } else if (value) {
      out->emplace_back(name, std::move(*value));
    }
  }
}

std::optional<std::string> Loader::ResolveSecret(const std::string& path, const std::string& name) {
  if (!IsEnvVarName(name)) return Problem(path, "must be an environment variable name"), std::nullopt;
  auto value = env_(name);
  if (!value) return Problem(path, fmt::format("environment variable {} is not set", name)), std::nullopt;
  if (value->empty())
    return Problem(path, fmt::format("environment variable {} is empty", name)), std::nullopt;
  if (std::any_of(value->begin(), value->end(), IsControl))
    return Problem(path, fmt::format("environment variable {} contains control characters "
                                     "(a trailing newline?)",
                                     name)),
           std::nullopt;
  return value;
}

void Loader::ReadModel(const YAML::Node& node, const std::string& path, const Config& config,
                       Model* out) {
  auto check_name = [&](const std::string& p, const std::string& name) {
    if (const char* problem = NameProblem(name)) Problem(p, problem);
  };
  bool has_upstream_model = false, has_max_output = false, limits_read = true;
  auto seen = ForEachKey(node, path,
                         {"name", "upstream", "upstream_model", "tier", "kind", "context_window",
                          "max_output_tokens", "prices", "supports", "tokenizer"},
                         [&](std::string_view key, const YAML::Node& value, const std::string& p) {
                           if (key == "name") {
                             if (auto name = Scalar(value, p, "a string"))
                               check_name(p, out->name = *name);
                           } else if (key == "upstream_model") {
                             if (auto name = Scalar(value, p, "a string"))
                               check_name(p, out->upstream_model = *name);
                             has_upstream_model = true;
                           } else if (key == "upstream") {
                             ReadUpstreamRef(value, p, config, out);
                           } else if (key == "tier") {
                             if (!ReadInt(value, p, 1, std::numeric_limits<int>::max(), &out->tier))
                               routing_unreadable_ = true;
                           } else if (key == "kind") {
                             if (!ReadKind(value, p, &out->kind)) routing_unreadable_ = true;
                           } else if (key == "context_window") {
                             limits_read &= ReadTokens(value, p, &out->context_window);
                           } else if (key == "max_output_tokens") {
                             has_max_output = true;
                             limits_read &= ReadTokens(value, p, &out->max_output_tokens);
                           } else if (key == "prices") {
                             ReadPrices(value, p, &out->prices);
                           } else if (key == "tokenizer") {
                             ReadString(value, p, &out->tokenizer);
                             if (out->tokenizer != "o200k_base" && out->tokenizer != "cl100k_base")
                               Problem(p, "must be o200k_base or cl100k_base");
                           } else {
                             ReadCapabilities(value, p, &out->supports);
                           }
                         });
  Require(seen, path, "name");
  Require(seen, path, "upstream");
  if (!has_upstream_model) out->upstream_model = out->name;
  // The default output limit shrinks to fit a small window; an explicit one must fit.
  if (!has_max_output) {
    out->max_output_tokens = std::min(out->max_output_tokens, out->context_window);
  } else if (limits_read && out->max_output_tokens > out->context_window) {
    Problem(Child(path, "max_output_tokens"), "must not exceed context_window");
  }
}

void Loader::ReadUpstreamRef(const YAML::Node& node, const std::string& path, const Config& config,
                             Model* out) {
  auto name = Scalar(node, path, "an upstream name");
  if (!name) return;
  out->upstream = *name;
  if (name->empty()) return Problem(path, "must not be empty");
  auto it = std::find_if(config.upstreams.begin(), config.upstreams.end(),
                         [&](const Upstream& u) { return u.name == *name; });
  if (it == config.upstreams.end())  // echo the text as written, never env values
    return Problem(path, fmt::format("no upstream is named \"{}\"", node.Scalar()));
  out->upstream_index = static_cast<std::size_t>(it - config.upstreams.begin());
}

// Missing prices are 0 (cached_input: the input price), but a prices map must give one of
// input and output: an empty or misspelt one would silently make the model free.
void Loader::ReadPrices(const YAML::Node& node, const std::string& path, Prices* out) {
  auto seen = ForEachKey(node, path,
                         {"input", "cached_input", "output", "reasoning", "fixed_usd_per_hour"},
                         [&](std::string_view key, const YAML::Node& value, const std::string& p) {
                           ReadPrice(value, p,
                                     key == "input"          ? &out->input
                                     : key == "cached_input" ? &out->cached_input
                                     : key == "output"       ? &out->output
                                     : key == "reasoning"    ? &out->reasoning
                                                             : &out->fixed_usd_per_hour);
                         });
  if (!seen) return;
  if (!seen->contains("cached_input")) out->cached_input = out->input;
  if (!seen->contains("reasoning")) out->reasoning = out->output;
  if (!seen->contains("input") && !seen->contains("output"))
    Problem(path, "must give input or output (USD per 1M tokens), or both");
}

void Loader::ReadCapabilities(const YAML::Node& node, const std::string& path, Capabilities* out) {
  ForEachKey(node, path, {"tools", "vision", "json_schema", "streaming"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               ReadBool(value, p,
                        key == "tools"         ? &out->tools
                        : key == "vision"      ? &out->vision
                        : key == "json_schema" ? &out->json_schema
                                               : &out->streaming);
             });
}

void Loader::ReadProfile(const YAML::Node& node, const std::string& path, Profile* out) {
  auto seen = ForEachKey(node, path,
                         {"name", "thresholds", "shares", "kinds", "max_attempts",
                          "expected_output_tokens", "baseline"},
                         [&](std::string_view key, const YAML::Node& value, const std::string& p) {
                           if (key == "name") {
                             if (auto name = Scalar(value, p, "a string")) {
                               out->name = std::move(*name);
                               if (const char* problem = NameProblem(out->name))
                                 Problem(p, problem);
                             }
                           } else if (key == "thresholds") {
                             ReadThresholds(value, p, &out->thresholds);
                           } else if (key == "shares") {
                             ReadShares(value, p, &out->shares);
                           } else if (key == "kinds") {
                             ReadKinds(value, p, &out->kinds);
                           } else if (key == "max_attempts") {
                             ReadInt(value, p, 1, 10, &out->max_attempts);
                           } else if (key == "baseline") {
                             ReadString(value, p, &out->baseline);
                           } else {
                             ReadTokens(value, p, &out->expected_output_tokens);
                           }
                         });
  Require(seen, path, "name");
  if (seen && seen->contains("shares")) {
    if (seen->contains("thresholds"))
      Problem(path, "give thresholds or shares, not both");
    // Start from the cumulative shares: the classifier's score is calibrated to be roughly
    // the share of its reference prompts that score lower.
    out->thresholds.clear();
    double cumulative = 0;
    for (std::size_t i = 0; i + 1 < out->shares.size(); ++i)
      out->thresholds.push_back(cumulative += out->shares[i]);
  }
}

// Two or more shares in (0, 1], one per tier from tier 1 up, summing to 1.
void Loader::ReadShares(const YAML::Node& node, const std::string& path,
                        std::vector<double>* out) {
  out->clear();
  if (!node.IsSequence() || node.size() < 2) {
    routing_unreadable_ = true;
    return Problem(path, "must list a traffic share per tier (at least two), such as [0.5, 0.3, 0.2]");
  }
  double sum = 0;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    auto text = Scalar(node[i], p, "a share");
    auto value = text ? ParseNumber(*text) : std::nullopt;
    if (!value || !(*value > 0 && *value <= 1)) {
      if (text) Problem(p, "must be a number greater than 0 and at most 1, such as 0.3");
      routing_unreadable_ = true;
      continue;
    }
    out->push_back(*value);
    sum += *value;
  }
  if (!routing_unreadable_ && std::abs(sum - 1.0) > 1e-6)
    Problem(path, fmt::format("must add up to 1 (they add up to {:.4g})", sum));
}

// Scores in (0, 1), strictly ascending; an empty list (or null) means "always tier 1".
void Loader::ReadThresholds(const YAML::Node& node, const std::string& path,
                            std::vector<double>* out) {
  out->clear();
  if (node.IsNull()) return;
  if (!node.IsSequence()) {
    routing_unreadable_ = true;
    return Problem(path, fmt::format("must be a list of scores, not {}", KindOf(node)));
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    auto text = Scalar(node[i], p, "a score");
    auto value = text ? ParseNumber(*text) : std::nullopt;
    if (!value) {
      if (text) Problem(p, "must be a number between 0 and 1, such as 0.45");
    } else if (!(*value > 0 && *value < 1)) {
      Problem(p, "must be greater than 0 and less than 1");
    } else if (!out->empty() && *value <= out->back()) {
      Problem(p, "must be greater than the threshold before it");
    } else {
      out->push_back(*value);
      continue;
    }
    routing_unreadable_ = true;
  }
}

// A non-empty list of distinct kinds (absent means every kind).
void Loader::ReadKinds(const YAML::Node& node, const std::string& path,
                       std::vector<ModelKind>* out) {
  if (!node.IsSequence() || node.size() == 0) {
    routing_unreadable_ = true;
    return Problem(path, node.IsSequence() || node.IsNull()
                             ? "must list at least one kind (leave it out to allow every kind)"
                             : fmt::format("must be a list of kinds, not {}", KindOf(node)));
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    ModelKind kind;
    if (!ReadKind(node[i], p, &kind)) {
      routing_unreadable_ = true;
    } else if (std::find(out->begin(), out->end(), kind) != out->end()) {
      Problem(p, "duplicate kind");
    } else {
      out->push_back(kind);
    }
  }
}

// After the models: a profile needs models to route to, and its name shares the namespace of
// the `model` field clients send.
void Loader::ReadProfiles(const std::optional<YAML::Node>& node, Config* config) {
  auto model_index = [&](const std::string& name) -> std::optional<std::size_t> {
    const Model* model = config->FindModel(name);
    if (model == nullptr) return std::nullopt;
    return static_cast<std::size_t>(model - config->models.data());
  };
  const bool any_tier = std::any_of(config->models.begin(), config->models.end(),
                                    [](const Model& m) { return m.tier > 0; });
  if (!node) {
    if (!any_tier) return;  // a plain proxy: every model is reached by its name only
    Profile& profile = config->profiles.emplace_back();
    profile.name = "auto";
    if (auto i = model_index(profile.name))
      Problem(fmt::format("models[{}].name", *i),
              "is \"auto\", the name of the default routing profile; rename the model or "
              "configure profiles");
    if (!routing_unreadable_ && !Servable(profile, *config))
      Problem("profiles", fmt::format("not given, so the default profile \"auto\" is used, but "
                                      "no model has tier >= {} (add one, or configure profiles)",
                                      profile.thresholds.size() + 1));
    return;
  }

  std::map<std::string, std::size_t> names;  // name -> first index, for duplicates
  ForEachItem(node, "profiles", [&](const YAML::Node& item, const std::string& path) {
    Profile& profile = config->profiles.emplace_back();
    ReadProfile(item, path, &profile);
    if (profile.name.empty()) return;
    auto [it, inserted] = names.emplace(profile.name, config->profiles.size() - 1);
    if (!inserted) {
      Problem(Child(path, "name"), fmt::format("duplicate of profiles[{}].name", it->second));
    } else if (auto i = model_index(profile.name)) {
      Problem(
          Child(path, "name"),
          fmt::format("same as models[{}].name (a profile and a model may not share a name)", *i));
    }
  });
  if (routing_unreadable_ || config->profiles.empty()) return;
  if (!any_tier)
    return Problem("profiles", "no model has a tier, so no profile can route (give models a tier)");
  for (std::size_t i = 0; i < config->profiles.size(); ++i) {
    const Profile& profile = config->profiles[i];
    if (!Servable(profile, *config))
      Problem(fmt::format("profiles[{}]", i),
              fmt::format("no model {}has tier >= {}",
                          profile.kinds.empty() ? "" : "of an allowed kind ",
                          profile.thresholds.size() + 1));
  }
}

bool Loader::Servable(const Profile& profile, const Config& config) {
  const auto highest_tier = static_cast<int>(profile.thresholds.size()) + 1;
  return std::any_of(config.models.begin(), config.models.end(), [&](const Model& m) {
    return m.tier >= highest_tier &&
           (profile.kinds.empty() ||
            std::find(profile.kinds.begin(), profile.kinds.end(), m.kind) != profile.kinds.end());
  });
}

// A profile's baseline names a model; without one it is the strongest model (highest tier,
// then highest output price), the one a team would otherwise send everything to.
void Loader::ResolveBaselines(Config* config) {
  const Model* strongest = nullptr;
  for (const Model& m : config->models)
    if (m.tier > 0 && (!strongest || m.tier > strongest->tier ||
                       (m.tier == strongest->tier && m.prices.output > strongest->prices.output)))
      strongest = &m;
  for (std::size_t i = 0; i < config->profiles.size(); ++i) {
    Profile& profile = config->profiles[i];
    if (profile.baseline.empty()) {
      if (strongest) profile.baseline = strongest->name;
    } else if (!config->FindModel(profile.baseline)) {
      Problem(fmt::format("profiles[{}].baseline", i),  // not echoed: it may come from ${VAR}
              "names no model of this config");
    }
  }
}

void Loader::ReadAccounting(const YAML::Node& node, const std::string& path, Accounting* out) {
  ForEachKey(node, path, {"ledger", "flush_interval", "admin_key_env"},
             [&](std::string_view key, const YAML::Node& value, const std::string& p) {
               if (key == "ledger") {
                 ReadString(value, p, &out->ledger);
                 if (out->ledger.empty()) Problem(p, "must be a file path, or off");
               } else if (key == "flush_interval") {
                 ReadDuration(value, p, &out->flush_interval);
                 if (out->flush_interval > std::chrono::seconds(60))
                   Problem(p, "must be at most 60s (a crash loses up to this much)");
               } else {
                 ReadString(value, p, &out->admin_key_env);
                 if (auto secret = ResolveSecret(p, out->admin_key_env))
                   out->admin_key = std::move(*secret);
               }
             });
}

static std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char byte : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
}

void Loader::ReadClientKey(const YAML::Node& node, const std::string& path, ClientKey* out) {
  auto seen = ForEachKey(
      node, path, {"id", "tenant", "sha256", "key_env"},
      [&](std::string_view key, const YAML::Node& value, const std::string& p) {
        if (key == "id" || key == "tenant") {
          std::string& name = key == "id" ? out->id : out->tenant;
          ReadString(value, p, &name);
          if (const char* problem = NameProblem(name)) Problem(p, problem);
        } else if (key == "sha256") {
          ReadString(value, p, &out->sha256);
          std::transform(out->sha256.begin(), out->sha256.end(), out->sha256.begin(),
                         [](unsigned char c) { return std::tolower(c); });
          if (out->sha256.size() != 64 ||
              out->sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
            Problem(p, "must be the key's SHA-256 digest: 64 hex digits");
        } else {
          std::string name;
          ReadString(value, p, &name);
          if (auto secret = ResolveSecret(p, name)) out->sha256 = Sha256Hex(*secret);
        }
      });
  Require(seen, path, "id");
  if (seen && seen->contains("sha256") == seen->contains("key_env"))
    Problem(path, "give sha256 or key_env (exactly one)");
  if (out->tenant.empty()) out->tenant = out->id;
}

void Loader::ReadBudget(const YAML::Node& node, const std::string& path, const Config& config,
                        Budget* out) {
  auto seen = ForEachKey(
      node, path, {"key", "tenant", "period", "limit_usd", "soft_limit"},
      [&](std::string_view key, const YAML::Node& value, const std::string& p) {
        if (key == "key" || key == "tenant") {
          out->scope = key == "key" ? Budget::Scope::kKey : Budget::Scope::kTenant;
          ReadString(value, p, &out->name);
          const bool known = std::any_of(config.keys.begin(), config.keys.end(), [&](auto& k) {
            return (key == "key" ? k.id : k.tenant) == out->name;
          });
          if (!known)  // the text as written: an interpolated value may be a secret
            Problem(p, fmt::format("no entry of keys has {} \"{}\"", key == "key" ? "id" : "tenant",
                                   value.IsScalar() ? value.Scalar() : ""));
        } else if (key == "period") {
          std::string period;
          ReadString(value, p, &period);
          if (period == "day") out->period = BudgetPeriod::kDay;
          else if (period == "month") out->period = BudgetPeriod::kMonth;
          else Problem(p, "must be day or month");
        } else if (key == "limit_usd") {
          auto text = Scalar(value, p, "an amount in USD");
          auto amount = text ? ParseNumber(*text) : std::nullopt;
          if (text && (!amount || *amount <= 0 || *amount > 1e9))
            Problem(p, "must be an amount in USD above 0 (at most 1e9)");
          if (amount) out->limit_usd = *amount;
        } else {
          auto text = Scalar(value, p, "a share");
          auto share = text ? ParseNumber(*text) : std::nullopt;
          if (text && (!share || *share < 0 || *share >= 1))
            Problem(p, "must be a share of the limit, at least 0 and below 1 (0.2 = the last 20%)");
          if (share) out->soft_limit = *share;
        }
      });
  if (seen && seen->contains("key") == seen->contains("tenant"))
    Problem(path, "give key or tenant (exactly one)");
  Require(seen, path, "period");
  Require(seen, path, "limit_usd");
}

void Loader::ForEachItem(const std::optional<YAML::Node>& node, const std::string& path,
                         const std::function<void(const YAML::Node&, const std::string&)>& read) {
  if (!node) return Problem(path, "is required");
  if (!node->IsNull() && !node->IsSequence())
    return Problem(path, fmt::format("must be a list, not {}", KindOf(*node)));
  if (node->size() == 0) return Problem(path, "must list at least one entry");
  for (std::size_t i = 0; i < node->size(); ++i) read((*node)[i], fmt::format("{}[{}]", path, i));
}

Config Loader::Load(const YAML::Node& root) {
  Config config;
  // Models refer to upstreams and profiles to models, so read the sections in a fixed order
  // whatever the file's.
  std::optional<YAML::Node> listen, upstreams, models, profiles, accounting, keys, budgets;
  ForEachKey(root, "",
             {"listen", "upstreams", "models", "profiles", "accounting", "keys", "budgets"},
             [&](std::string_view key, const YAML::Node& value, const std::string&) {
               (key == "listen"       ? listen
                : key == "upstreams"  ? upstreams
                : key == "models"     ? models
                : key == "profiles"   ? profiles
                : key == "accounting" ? accounting
                : key == "keys"       ? keys
                                      : budgets)
                   .emplace(value);
             });
  if (listen) ReadListener(*listen, "listen", &config.listener);
  if (accounting) ReadAccounting(*accounting, "accounting", &config.accounting);

  std::map<std::string, std::size_t> names;  // name -> first index, for duplicates
  ForEachItem(upstreams, "upstreams", [&](const YAML::Node& item, const std::string& path) {
    Upstream& upstream = config.upstreams.emplace_back();
    ReadUpstream(item, path, &upstream);
    auto [it, inserted] = names.emplace(upstream.name, config.upstreams.size() - 1);
    if (!inserted && !upstream.name.empty())
      Problem(Child(path, "name"), fmt::format("duplicate of upstreams[{}].name", it->second));
  });
  names.clear();
  ForEachItem(models, "models", [&](const YAML::Node& item, const std::string& path) {
    Model& model = config.models.emplace_back();
    ReadModel(item, path, config, &model);
    auto [it, inserted] = names.emplace(model.name, config.models.size() - 1);
    if (!inserted && !model.name.empty())
      Problem(Child(path, "name"), fmt::format("duplicate of models[{}].name", it->second));
  });
  ReadProfiles(profiles, &config);
  ResolveBaselines(&config);

  names.clear();
  std::map<std::string, std::size_t> digests;  // the same key twice would be ambiguous
  if (keys) ForEachItem(keys, "keys", [&](const YAML::Node& item, const std::string& path) {
    ClientKey& key = config.keys.emplace_back();
    ReadClientKey(item, path, &key);
    auto [it, inserted] = names.emplace(key.id, config.keys.size() - 1);
    if (!inserted && !key.id.empty())
      Problem(Child(path, "id"), fmt::format("duplicate of keys[{}].id", it->second));
    if (!key.sha256.empty() && !digests.emplace(key.sha256, config.keys.size() - 1).second)
      Problem(path, "the same key as another entry");
  });
  if (budgets) ForEachItem(budgets, "budgets", [&](const YAML::Node& item, const std::string& path) {
    ReadBudget(item, path, config, &config.budgets.emplace_back());
  });
  if (!config.budgets.empty() && config.accounting.ledger == "off")
    Problem("accounting.ledger", "is off, but budgets are configured: they are rebuilt from the "
                                 "ledger at start, so a restart would forget what was spent");
  return config;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(fmt::format("{}", fmt::join(problems, "\n"))),
      problems_(std::move(problems)) {}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config LoadConfigString(std::string_view yaml, const EnvLookup& env) {
  std::vector<YAML::Node> documents;
  try {
    // Count the documents with a parser that builds nothing, stopping at the second: yaml-cpp
    // 0.7's LoadAll never returns on some malformed input (a lone ",").
    std::istringstream in{std::string(yaml)};
    YAML::Parser parser(in);
    struct NoEvents : YAML::EventHandler {
      void OnDocumentStart(const YAML::Mark&) override {}
      void OnDocumentEnd() override {}
      void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
      void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
      void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
      void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                           YAML::EmitterStyle::value) override {}
      void OnSequenceEnd() override {}
      void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                      YAML::EmitterStyle::value) override {}
      void OnMapEnd() override {}
    } none;
    int count = 0;
    while (count < 2 && parser.HandleNextDocument(none)) ++count;
    if (count > 1) throw ConfigError({"yaml: expected a single document"});
    if (count == 1) documents.push_back(YAML::Load(std::string(yaml)));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) throw ConfigError({fmt::format("yaml: {}", e.msg)});
    throw ConfigError(
        {fmt::format("yaml: line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg)});
  }
  if (documents.size() > 1) throw ConfigError({"yaml: expected a single document"});
  Loader loader(env);
  Config config = loader.Load(documents.empty() ? YAML::Node() : documents.front());
  if (!loader.problems().empty()) throw ConfigError(loader.problems());
  return config;
}

Config LoadConfigFile(const std::string& path, const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError({fmt::format("{}: is a directory, not a config file", path)});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({fmt::format("{}: cannot open: {}", path, std::strerror(errno))});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError({fmt::format("{}: cannot read", path)});
  return LoadConfigString(text.str(), env);
}

}  // namespace switchyard::config
