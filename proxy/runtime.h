// Everything requests need that can be computed once from a Config: per-upstream header
// blocks and TLS contexts, per-model spliced names and JSON. Immutable after Build and
// shared read-only by all workers (std::shared_ptr<const Runtime>).
//
// A Runtime also binds its config to the process's state that must outlive a reload: each
// upstream's health and capacity gate, the budgets' spend, the metric series. Built from a
// previous Runtime (a reload), it shares that state wherever the config did not change it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "classifiers/model.h"
#include "config/config.h"
#include "proxy/accounting/budgets.h"
#include "proxy/accounting/money.h"
#include "proxy/upstream/capacity.h"
#include "proxy/upstream/health.h"

namespace switchyard {

class Metrics;

struct UpstreamRuntime {
  const config::Upstream* config = nullptr;
  // "Host: ...\r\nAuthorization: Bearer ...\r\n" plus the configured extra headers.
  // Holds the upstream key: never log it.
  std::string fixed_headers;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null for plain HTTP
  // Shared by every worker and kept across reloads while the upstream's endpoint and circuit
  // breaker (health) or its max_concurrent and max_queue (capacity) stay the same.
  std::shared_ptr<upstream::UpstreamHealth> health;
  std::shared_ptr<upstream::CapacityGate> capacity;

  // Whether the config sets header `name` for this upstream (a client's copy is dropped).
  bool SetsHeader(std::string_view name) const;
};

struct ModelRuntime {
  const config::Model* config = nullptr;
  std::size_t index = 0;               // position in Config::models
  std::string quoted_upstream_model;   // "\"llama3.2:3b\"": spliced into request bodies
  std::string json;                    // this model's object in /v1/models
  accounting::PriceTable prices;       // the config's prices in integer units
};

struct ProfileRuntime {
  const config::Profile* config = nullptr;
  std::size_t index = 0;  // position in Config::profiles
  std::string json;  // this profile's object in /v1/models
  const ModelRuntime* baseline = nullptr;  // the reference model savings are measured against
};

struct KeyRuntime {
  const config::ClientKey* config = nullptr;
  std::size_t tenant_index = 0;      // into Runtime::tenants()
  std::vector<std::size_t> budgets;  // ids in Runtime::budgets(): the key's and its tenant's
};

struct TenantRuntime {
  std::string name;
  std::vector<std::size_t> budgets;  // ids in Runtime::budgets(): the tenant's own
};

class Runtime {
 public:
  // Builds TLS contexts (system CA store plus an upstream's ca_file) and, when the config has
  // routing profiles, loads the classifier (`classifier`, else `previous`'s, else the
  // committed model). Throws std::runtime_error saying what failed (a CA file, the model
  // file); nothing shared with `previous` changes then.
  static std::shared_ptr<const Runtime> Build(
      config::Config config, std::shared_ptr<const classifiers::Model> classifier = nullptr,
      const Runtime* previous = nullptr);
  ~Runtime();

  const config::Config& config() const { return config_; }
  const std::vector<UpstreamRuntime>& upstreams() const { return upstreams_; }
  const std::vector<ModelRuntime>& models() const { return models_; }
  const ModelRuntime* FindModel(std::string_view name) const;
  const ProfileRuntime* FindProfile(std::string_view name) const;
  const std::vector<ProfileRuntime>& profiles() const { return profiles_; }
  const classifiers::Model* classifier() const { return classifier_.get(); }
  // The client key whose SHA-256 digest matches `presented`; null if none. With no keys
  // configured the proxy is open (a sidecar) and this is never asked.
  const KeyRuntime* FindKey(std::string_view presented) const;
  bool open_mode() const { return keys_.empty(); }
  // Every tenant the keys name, in the order they first appear.
  const std::vector<TenantRuntime>& tenants() const { return tenants_; }
  const std::string& models_list_json() const { return models_list_json_; }

  // The process's budgets (thread-safe), and the config budget an id stands for (null: none
  // in this config).
  accounting::Budgets& budgets() const { return *budgets_; }
  const config::Budget* FindBudget(std::size_t id) const;
  const std::vector<std::size_t>& budget_ids() const { return budget_ids_; }  // by Config::budgets index
  // This config's view of the process's metric series (thread-safe).
  Metrics& metrics() const { return *metrics_; }

 private:
  Runtime() = default;
  config::Config config_;
  std::vector<UpstreamRuntime> upstreams_;
  std::vector<ModelRuntime> models_;
  std::vector<ProfileRuntime> profiles_;
  std::unordered_map<std::string_view, std::size_t> model_by_name_;
  std::vector<KeyRuntime> keys_;
  std::unordered_map<std::string, std::size_t> key_by_digest_;  // raw 32-byte SHA-256
  std::vector<TenantRuntime> tenants_;
  std::shared_ptr<const classifiers::Model> classifier_;
  std::string models_list_json_;
  std::shared_ptr<accounting::Budgets> budgets_;
  std::vector<std::size_t> budget_ids_;  // by index in Config::budgets
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace switchyard
