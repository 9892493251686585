#include "proxy/runtime.h"

#include <fmt/format.h>

#include <boost/beast/core/string.hpp>

#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <stdexcept>

#include "classifiers/model_io.h"
#include "proxy/metrics/metrics.h"
#include "proxy/openai/errors.h"

namespace switchyard {

namespace ssl = boost::asio::ssl;

static std::shared_ptr<ssl::context> MakeTlsContext(const config::Upstream& upstream) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_default_verify_paths(ec);
  if (ec)
    throw std::runtime_error(fmt::format("upstream {}: cannot load the system CA store: {}",
                                         upstream.name, ec.message()));
  if (!upstream.ca_file.empty()) ctx->load_verify_file(upstream.ca_file, ec);
  if (ec)
    throw std::runtime_error(fmt::format("upstream {}: cannot load ca_file {}: {}", upstream.name,
                                         upstream.ca_file, ec.message()));
  ctx->set_verify_mode(upstream.insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  return ctx;
}

static std::string FixedHeaders(const config::Upstream& upstream) {
  const config::Url& url = upstream.url;
  const bool default_port = url.port == (url.tls() ? 443 : 80);
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + url.host + "]" : url.host;
  if (!default_port) host += fmt::format(":{}", url.port);
  std::string out = fmt::format("Host: {}\r\n", host);
  if (!upstream.api_key.empty()) out += fmt::format("Authorization: Bearer {}\r\n", upstream.api_key);
  for (const auto& [name, value] : upstream.headers) out += fmt::format("{}: {}\r\n", name, value);
  return out;
}

bool UpstreamRuntime::SetsHeader(std::string_view name) const {
  for (const auto& [configured, value] : config->headers)
    if (boost::beast::iequals(configured, name)) return true;
  return false;
}

static std::string ModelJson(const config::Model& model, const config::Upstream& upstream,
                             std::time_t created) {
  std::string out = R"({"id":")";
  openai::AppendJsonEscaped(out, model.name);
  out += fmt::format(R"(","object":"model","created":{},"owned_by":")", created);
  openai::AppendJsonEscaped(out, upstream.name);
  out += "\"}";
  return out;
}

static bool SameBreaker(const config::CircuitBreaker& a, const config::CircuitBreaker& b) {
  return a.failures == b.failures && a.error_rate == b.error_rate &&
         a.min_requests == b.min_requests && a.window == b.window && a.open_for == b.open_for;
}

// The previous config's upstream of the same name, if any.
static const UpstreamRuntime* Namesake(const Runtime* previous, const std::string& name) {
  if (!previous) return nullptr;
  for (const auto& u : previous->upstreams())
    if (u.config->name == name) return &u;
  return nullptr;
}

// State an upstream keeps across a reload: its health while it is the same endpoint judged by
// the same breaker, its capacity gate (and the requests holding it) while the limits stay.
static void BindUpstreamState(UpstreamRuntime& u, const UpstreamRuntime* before) {
  const config::Upstream& now = *u.config;
  if (before && before->config->base_url == now.base_url &&
      SameBreaker(before->config->circuit_breaker, now.circuit_breaker))
    u.health = before->health;
  else
    u.health = std::make_shared<upstream::UpstreamHealth>(now.circuit_breaker);
  if (before && before->config->max_concurrent == now.max_concurrent &&
      before->config->max_queue == now.max_queue)
    u.capacity = before->capacity;
  else
    u.capacity = std::make_shared<upstream::CapacityGate>(now.max_concurrent, now.max_queue);
}

Runtime::~Runtime() = default;

std::shared_ptr<const Runtime> Runtime::Build(config::Config config,
                                              std::shared_ptr<const classifiers::Model> classifier,
                                              const Runtime* previous) {
  std::shared_ptr<Runtime> rt(new Runtime());
  rt->config_ = std::move(config);
  if (!classifier && previous) classifier = previous->classifier_;
  if (!rt->config_.profiles.empty()) {
    if (!classifier) {
      const classifiers::Status status =
          classifiers::LoadEmbeddedModel(&classifier);
      if (!status.ok())
        throw std::runtime_error(fmt::format("cannot load the classifier model: {}", status.message()));
    }
    rt->classifier_ = std::move(classifier);
  }
  const std::time_t created = std::time(nullptr);
  for (const auto& upstream : rt->config_.upstreams) {
    UpstreamRuntime u;
    u.config = &upstream;
    u.fixed_headers = FixedHeaders(upstream);
    if (upstream.url.tls()) u.tls = MakeTlsContext(upstream);
    rt->upstreams_.push_back(std::move(u));
  }
  // Nothing below can fail: only now is state shared with `previous` touched (budget limits).
  for (auto& u : rt->upstreams_) BindUpstreamState(u, Namesake(previous, u.config->name));
  rt->models_list_json_ = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < rt->config_.models.size(); ++i) {
    const config::Model& model = rt->config_.models[i];
    ModelRuntime m;
    m.config = &model;
    m.index = i;
    m.quoted_upstream_model = "\"" + model.upstream_model + "\"";  // validated: needs no escaping
    m.json = ModelJson(model, rt->config_.upstreams[model.upstream_index], created);
    m.prices = accounting::PriceTable::FromConfig(model.prices);
    if (i) rt->models_list_json_ += ',';
    rt->models_list_json_ += m.json;
    rt->models_.push_back(std::move(m));
  }
  for (const auto& profile : rt->config_.profiles) {
    std::string json = R"({"id":")";
    openai::AppendJsonEscaped(json, profile.name);
    json += fmt::format(R"(","object":"model","created":{},"owned_by":"switchyard"}})", created);
    rt->models_list_json_ += ',' + json;
    rt->profiles_.push_back({&profile, rt->profiles_.size(), std::move(json)});
  }
  rt->models_list_json_ += "]}";
  for (const auto& m : rt->models_) rt->model_by_name_.emplace(m.config->name, m.index);
  for (auto& p : rt->profiles_) p.baseline = rt->FindModel(p.config->baseline);

  const auto& budgets = rt->config_.budgets;
  rt->budgets_ = previous ? previous->budgets_ : std::make_shared<accounting::Budgets>();
  rt->budget_ids_ = rt->budgets_->Bind(budgets);
  const auto& ids = rt->budget_ids_;
  for (const auto& key : rt->config_.keys) {
    auto tenant = std::find_if(rt->tenants_.begin(), rt->tenants_.end(),
                               [&](const TenantRuntime& t) { return t.name == key.tenant; });
    if (tenant == rt->tenants_.end()) {
      TenantRuntime t{key.tenant, {}};
      for (std::size_t i = 0; i < budgets.size(); ++i)
        if (budgets[i].scope == config::Budget::Scope::kTenant && budgets[i].name == key.tenant)
          t.budgets.push_back(ids[i]);
      tenant = rt->tenants_.insert(rt->tenants_.end(), std::move(t));
    }
    KeyRuntime k{&key, static_cast<std::size_t>(tenant - rt->tenants_.begin()), tenant->budgets};
    for (std::size_t i = 0; i < budgets.size(); ++i)
      if (budgets[i].scope == config::Budget::Scope::kKey && budgets[i].name == key.id)
        k.budgets.push_back(ids[i]);
    std::string digest;  // hex to raw bytes
    for (std::size_t i = 0; i + 1 < key.sha256.size(); i += 2)
      digest.push_back(static_cast<char>(std::stoi(key.sha256.substr(i, 2), nullptr, 16)));
    rt->key_by_digest_.emplace(std::move(digest), rt->keys_.size());
    rt->keys_.push_back(std::move(k));
  }
  rt->metrics_ = std::make_shared<Metrics>(*rt, previous ? previous->metrics_->registry() : nullptr);
  return rt;
}

const config::Budget* Runtime::FindBudget(std::size_t id) const {
  for (std::size_t i = 0; i < budget_ids_.size(); ++i)
    if (budget_ids_[i] == id) return &config_.budgets[i];
  return nullptr;
}

const KeyRuntime* Runtime::FindKey(std::string_view presented) const {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), digest);
  auto it = key_by_digest_.find(std::string(reinterpret_cast<const char*>(digest), sizeof digest));
  return it == key_by_digest_.end() ? nullptr : &keys_[it->second];
}

const ProfileRuntime* Runtime::FindProfile(std::string_view name) const {
  for (const auto& p : profiles_)
    if (p.config->name == name) return &p;
  return nullptr;
}

const ModelRuntime* Runtime::FindModel(std::string_view name) const {
  auto it = model_by_name_.find(name);
  return it == model_by_name_.end() ? nullptr : &models_[it->second];
}

}  // namespace switchyard
