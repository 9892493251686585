// The proxy's configuration: what the YAML file says, validated and resolved.
// Plain values; a loaded Config is immutable and shared read-only across threads
// (std::shared_ptr<const Config>). Secrets (api_key) are resolved from the environment
// at load time and must never be logged or echoed in errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::config {

using Duration = std::chrono::milliseconds;

struct Listener {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;
  int threads = 0;  // 0: one per core
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  // A request body's `messages` array: at most this many (OpenAI's own limit, 2048).
  std::size_t max_messages = 2048;
  // Arrays and objects nested in a body at most this deep ({} is 1): the tool and
  // response_format schemas OpenAI accepts (10 object levels) need about 40; serde_json stops
  // at 128 too. From 16 (an ordinary chat body is 6 deep) to 1024.
  std::size_t max_json_depth = 128;
  int max_connections = 10000;
  Duration header_timeout{10'000};      // whole request head + body must arrive in this
  Duration keep_alive_timeout{60'000};  // idle client connection between requests
  Duration shutdown_grace{30'000};      // in-flight requests may finish within this
};

// A parsed base URL: "https://api.openai.com/v1" -> {https, api.openai.com, 443, "/v1"}.
struct Url {
  std::string scheme;       // "http" or "https"
  std::string host;         // no brackets for IPv6
  uint16_t port = 0;        // explicit or the scheme's default
  std::string path_prefix;  // "" or "/v1" (never a trailing slash)
  bool tls() const { return scheme == "https"; }
};

struct UpstreamTimeouts {
  Duration connect{5'000};
  Duration tls_handshake{5'000};
  Duration first_byte{120'000};  // request sent -> response headers received
  Duration idle{60'000};         // gap between two body reads (stream chunks)
  Duration total{600'000};       // whole exchange
};

// Passive health: opens after `failures` failed exchanges in a row, or when at least
// `min_requests` in the last `window` failed at `error_rate` or more; while open, routing skips
// the upstream; after `open_for` one probe request at a time decides (success closes it).
struct CircuitBreaker {
  int failures = 5;
  double error_rate = 0.5;
  int min_requests = 20;
  Duration window{30'000};
  Duration open_for{10'000};
};

// Active health: GET `path` every `interval` (0: off); a failure or a non-2xx answer counts
// as a failed exchange for the circuit breaker, a 2xx as a successful one.
struct HealthCheck {
  std::string path = "/models";  // after the base URL's path prefix
  Duration interval{0};
  Duration timeout{2'000};
};

struct Upstream {
  std::string name;
  std::string base_url;  // as written in the file
  Url url;
  std::string api_key_env;  // environment variable holding the key; "" = no key
  std::string api_key;      // SECRET: resolved value; never log
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  UpstreamTimeouts timeouts;
  int max_connections = 64;                  // across all worker threads
  Duration idle_connection_timeout{60'000};  // pooled idle connections closed after
  std::string ca_file;                       // extra CA bundle (PEM), added to the system store
  bool insecure_skip_verify = false;         // TLS without verification (logged at start)
  // Streams whose client did not ask for usage ask for it upstream (stream_options), so their
  // cost is exact; off for an upstream that rejects stream_options (usage is estimated then).
  bool ask_stream_usage = true;
  CircuitBreaker circuit_breaker;
  HealthCheck health_check;
  // Requests at once across all workers (a self-hosted server's real capacity); 0: no limit.
  // At the limit, `auto` spills to the next candidate; explicit models wait in a queue of at
  // most max_queue for at most queue_timeout, then get 503.
  int max_concurrent = 0;
  int max_queue = 64;
  Duration queue_timeout{5'000};
  // Fall back to another candidate even when the request may already have reached the model
  // (a first-byte timeout, a reset while waiting): it may then run twice.
  bool retry_unanswered = false;
};

enum class ModelKind { kCloud, kEdge, kSelfHosted };

// USD per 1M tokens, except the fixed cost.
struct Prices {
  double input = 0;
  double cached_input = 0;  // defaults to `input` when not given
  double output = 0;
  double reasoning = -1;    // reasoning tokens (part of the output); < 0: the output price
  double fixed_usd_per_hour = 0;  // an edge or self-hosted machine's own cost, reported apart
};

struct Capabilities {
  bool tools = false;
  bool vision = false;
  bool json_schema = false;
  bool streaming = true;
};

struct Model {
  std::string name;                // public name clients send
  std::string upstream;            // Upstream::name
  std::string upstream_model;      // name sent upstream (defaults to `name`)
  std::size_t upstream_index = 0;  // index into Config::upstreams, set by the loader

  // Routing. A model with a tier is a candidate for routing profiles; one without is
  // reachable by its name only (embedding models, for instance).
  int tier = 0;  // 0: not routable; 1 = small/edge ... higher = stronger
  ModelKind kind = ModelKind::kCloud;
  std::int64_t context_window = 128'000;   // tokens, prompt + completion
  std::int64_t max_output_tokens = 4'096;  // the model's own completion limit
  Prices prices;
  Capabilities supports;
  std::string tokenizer = "o200k_base";  // estimates usage when the upstream reports none
};

// A routing profile: a name clients send as `model` ("auto"), mapping the classifier's score
// to a minimum tier and choosing the cheapest capable model at or above it.
struct Profile {
  std::string name;
  std::vector<double> thresholds{0.45, 0.75};  // ascending: tier = 1 + thresholds reached
  // Target traffic share per tier (tier 1 first, summing to 1). When given, the thresholds
  // follow the quantiles of recent scores (RouteLLM-style calibration); `thresholds` holds
  // the starting point, the cumulative shares.
  std::vector<double> shares;
  std::vector<ModelKind> kinds;                // allowed kinds; empty = all
  int max_attempts = 3;                        // candidates tried before giving up
  std::int64_t expected_output_tokens = 256;   // for the cost estimate (capped by max_tokens)
  // The reference model: every request also records what it would have cost there. Defaults
  // to the strongest model (highest tier, then highest output price).
  std::string baseline;
};

struct Accounting {
  std::string ledger = "switchyard-ledger.db";  // SQLite file; "off": no ledger
  Duration flush_interval{1'000};  // a crash loses at most this much of the ledger
  std::string admin_key_env;       // environment variable holding the key for GET /v1/spend
  std::string admin_key;           // SECRET: resolved value; never log
};

// A client API key. Only its SHA-256 digest is kept.
struct ClientKey {
  std::string id;      // names the key in the ledger and /v1/spend (never the key itself)
  std::string tenant;  // defaults to the id
  std::string sha256;  // 64 lowercase hex digits of SHA-256(key)
};

enum class BudgetPeriod { kDay, kMonth };  // calendar day / month, UTC

struct Budget {
  enum class Scope { kKey, kTenant } scope = Scope::kTenant;
  std::string name;  // the key id or tenant it limits
  BudgetPeriod period = BudgetPeriod::kMonth;
  double limit_usd = 0;
  // Below this share of the limit left, `auto` requests go to the cheapest capable tier
  // instead of the classifier's; 0: off.
  double soft_limit = 0;
};

struct Config {
  Listener listener;
  std::vector<Upstream> upstreams;
  std::vector<Model> models;
  std::vector<Profile> profiles;  // the loader adds a default "auto" when none is configured
  Accounting accounting;
  std::vector<ClientKey> keys;  // none: open mode, every client admitted (a sidecar)
  std::vector<Budget> budgets;

  const Model* FindModel(std::string_view name) const {
    for (const auto& m : models)
      if (m.name == name) return &m;
    return nullptr;
  }
};

}  // namespace switchyard::config
