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

struct Upstream {
  std::string name;
  std::string base_url;  // as written in the file
  Url url;
  std::string api_key_env;  // environment variable holding the key; "" = no key
  std::string api_key;      // SECRET: resolved value; never log
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  UpstreamTimeouts timeouts;
  int max_connections = 64;  // across all worker threads
  Duration idle_connection_timeout{60'000};  // pooled idle connections closed after
  std::string ca_file;                       // extra CA bundle (PEM), added to the system store
  bool insecure_skip_verify = false;         // TLS without verification (logged at start)
};

struct Model {
  std::string name;            // public name clients send
  std::string upstream;        // Upstream::name
  std::string upstream_model;  // name sent upstream (defaults to `name`)
  std::size_t upstream_index = 0;  // index into Config::upstreams, set by the loader
};

struct Config {
  Listener listener;
  std::vector<Upstream> upstreams;
  std::vector<Model> models;

  const Model* FindModel(std::string_view name) const {
    for (const auto& m : models)
      if (m.name == name) return &m;
    return nullptr;
  }
};

}  // namespace switchyard::config
