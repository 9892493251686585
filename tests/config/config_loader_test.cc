#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace switchyard::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

const std::string kExamples = std::string(SWITCHYARD_SOURCE_DIR) + "/config/examples/";

// The smallest valid config; tests append to or replace parts of it.
constexpr const char* kUpstreams = R"(
upstreams:
  - name: cloud
    base_url: https://api.example.com/v1
)";
constexpr const char* kModels = R"(
models:
  - name: small
    upstream: cloud
)";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  EnvLookup Env() {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  Config Load(const std::string& yaml) { return LoadConfigString(yaml, Env()); }
  // The problems loading `yaml` reports; fails the test if it loads.
  std::vector<std::string> Problems(const std::string& yaml) {
    try {
      LoadConfigString(yaml, Env());
    } catch (const ConfigError& e) {
      return e.problems();
    }
    ADD_FAILURE() << "loaded without problems:\n" << yaml;
    return {};
  }
  std::string What(const std::string& yaml) {
    try {
      LoadConfigString(yaml, Env());
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  std::map<std::string, std::string> env_;
};

TEST_F(ConfigLoaderTest, LocalExampleLoadsWithoutAnyEnvironment) {
  Config config = LoadConfigFile(kExamples + "local.yaml", Env());
  EXPECT_EQ(config.listener.address, "127.0.0.1");
  EXPECT_EQ(config.listener.port, 8080);
  ASSERT_EQ(config.upstreams.size(), 2u);
  EXPECT_EQ(config.upstreams[1].name, "mock-edge");
  EXPECT_EQ(config.upstreams[1].url.port, 9102);
  EXPECT_EQ(config.upstreams[1].api_key, "");
  const Model* llama = config.FindModel("llama3.2-3b");
  ASSERT_NE(llama, nullptr);
  EXPECT_EQ(llama->upstream_model, "llama3.2:3b");
  EXPECT_EQ(llama->upstream_index, 1u);
  EXPECT_EQ(llama->tier, 1);
  EXPECT_EQ(llama->kind, ModelKind::kEdge);
  EXPECT_EQ(llama->max_output_tokens, 2048);
  EXPECT_TRUE(llama->supports.tools);
  EXPECT_FALSE(llama->supports.vision);
  ASSERT_NE(config.FindModel("text-embedding-3-small"), nullptr);
  EXPECT_EQ(config.FindModel("text-embedding-3-small")->tier, 0);
  const Model* gpt4o = config.FindModel("gpt-4o");
  EXPECT_EQ(gpt4o->upstream_index, 0u);
  EXPECT_EQ(gpt4o->tier, 3);
  EXPECT_EQ(gpt4o->context_window, 128000);
  EXPECT_DOUBLE_EQ(gpt4o->prices.cached_input, 1.25);
  EXPECT_DOUBLE_EQ(gpt4o->prices.output, 10.0);
  ASSERT_EQ(config.profiles.size(), 3u);
  EXPECT_EQ(config.profiles[0].name, "auto");
  EXPECT_THAT(config.profiles[0].thresholds, ElementsAre(0.45, 0.75));
  EXPECT_THAT(config.profiles[1].thresholds, ElementsAre(0.7, 0.9));
  EXPECT_EQ(config.profiles[2].name, "auto-local");
  EXPECT_THAT(config.profiles[2].thresholds, IsEmpty());
  EXPECT_THAT(config.profiles[2].kinds, ElementsAre(ModelKind::kEdge, ModelKind::kSelfHosted));
}

TEST_F(ConfigLoaderTest, ProductionExampleLoadsWhenEveryKeyIsSet) {
  for (const char* name :
       {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY", "VLLM_API_KEY",
        "SWITCHYARD_ADMIN_KEY", "SWITCHYARD_KEY_WEB", "SWITCHYARD_KEY_BATCH"})
    env_[name] = std::string("key-for-") + name;
  env_["VLLM_HOST"] = "vllm.internal:8000";
  Config config = LoadConfigFile(kExamples + "production.yaml", Env());
  EXPECT_EQ(config.listener.max_body_bytes, 8u << 20);
  EXPECT_EQ(config.listener.max_messages, 2048u);
  EXPECT_EQ(config.listener.max_json_depth, 128u);
  ASSERT_EQ(config.upstreams.size(), 6u);
  EXPECT_EQ(config.upstreams[0].api_key, "key-for-OPENAI_API_KEY");
  EXPECT_EQ(config.upstreams[4].url.host, "vllm.internal");
  EXPECT_EQ(config.upstreams[4].url.port, 8000);
  EXPECT_EQ(config.FindModel("claude-sonnet-4")->upstream_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(config.upstreams[config.FindModel("gemini-2.0-flash")->upstream_index].url.path_prefix,
            "/v1beta/openai");
  const Model* sonnet = config.FindModel("claude-sonnet-4");
  EXPECT_EQ(sonnet->tier, 3);
  EXPECT_EQ(sonnet->context_window, 200000);
  EXPECT_DOUBLE_EQ(sonnet->prices.input, 3.0);
  EXPECT_DOUBLE_EQ(sonnet->prices.cached_input, 0.30);
  EXPECT_DOUBLE_EQ(sonnet->prices.output, 15.0);
  EXPECT_DOUBLE_EQ(config.FindModel("gemini-2.0-flash-lite")->prices.cached_input, 0.075);
  EXPECT_EQ(config.FindModel("gemini-2.0-flash")->context_window, 1048576);
  EXPECT_EQ(config.FindModel("llama-3.1-8b-vllm")->kind, ModelKind::kSelfHosted);
  EXPECT_DOUBLE_EQ(config.FindModel("llama-3.1-8b-vllm")->prices.output, 0.0);
  ASSERT_EQ(config.profiles.size(), 4u);
  EXPECT_EQ(config.profiles[2].name, "auto-budget");
  EXPECT_THAT(config.profiles[2].shares, ElementsAre(0.6, 0.3, 0.1));
  EXPECT_EQ(config.profiles[3].name, "auto-private");
  EXPECT_THAT(config.profiles[3].kinds, ElementsAre(ModelKind::kSelfHosted, ModelKind::kEdge));
  EXPECT_EQ(config.profiles[3].max_attempts, 2);
  EXPECT_EQ(config.profiles[0].baseline, "gpt-4o");
  EXPECT_EQ(config.profiles[1].baseline, "claude-sonnet-4");  // the default: strongest, dearest
  ASSERT_EQ(config.keys.size(), 3u);
  EXPECT_EQ(config.keys[1].tenant, "acme");
  ASSERT_EQ(config.budgets.size(), 3u);
  EXPECT_EQ(config.budgets[1].scope, Budget::Scope::kKey);
  EXPECT_EQ(config.accounting.admin_key, "key-for-SWITCHYARD_ADMIN_KEY");
}

TEST_F(ConfigLoaderTest, ProductionExampleNamesEachMissingVariable) {
  std::ifstream in(kExamples + "production.yaml");
  const std::string yaml(std::istreambuf_iterator<char>(in), {});
  EXPECT_THAT(Problems(yaml),
              UnorderedElementsAre(
                  "upstreams[0].api_key_env: environment variable OPENAI_API_KEY is not set",
                  "upstreams[1].api_key_env: environment variable ANTHROPIC_API_KEY is not set",
                  "upstreams[2].api_key_env: environment variable GEMINI_API_KEY is not set",
                  "upstreams[3].api_key_env: environment variable GROQ_API_KEY is not set",
                  "upstreams[4].base_url: environment variable VLLM_HOST is not set",
                  "upstreams[4].api_key_env: environment variable VLLM_API_KEY is not set",
                  "accounting.admin_key_env: environment variable SWITCHYARD_ADMIN_KEY is not set",
                  "keys[0].key_env: environment variable SWITCHYARD_KEY_WEB is not set",
                  "keys[1].key_env: environment variable SWITCHYARD_KEY_BATCH is not set"));
}

TEST_F(ConfigLoaderTest, AppliesDefaultsToOmittedSettings) {
  Config config = Load(std::string(kUpstreams) + kModels);
  const Listener defaults;
  EXPECT_EQ(config.listener.address, defaults.address);
  EXPECT_EQ(config.listener.port, defaults.port);
  EXPECT_EQ(config.listener.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(config.listener.max_messages, 2048u);  // OpenAI's own limit
  EXPECT_EQ(config.listener.max_json_depth, 128u);
  EXPECT_EQ(config.listener.shutdown_grace, defaults.shutdown_grace);
  const Upstream& cloud = config.upstreams.at(0);
  EXPECT_EQ(cloud.url.port, 443);
  EXPECT_EQ(cloud.api_key_env, "");
  EXPECT_THAT(cloud.headers, IsEmpty());
  EXPECT_EQ(cloud.max_connections, 64);
  EXPECT_EQ(cloud.timeouts.total, minutes(10));
  EXPECT_FALSE(cloud.insecure_skip_verify);
  EXPECT_EQ(config.models.at(0).upstream_model, "small");
}

// --- Routing: model fields and profiles ---

// kUpstreams plus an edge upstream, and models of tiers 1 (edge) to 3 (cloud).
constexpr const char* kTiered = R"(
upstreams:
  - { name: cloud, base_url: "https://api.example.com/v1" }
  - { name: edge, base_url: "http://127.0.0.1:11434/v1" }
models:
  - { name: tiny, upstream: edge, tier: 1, kind: edge }
  - { name: mid, upstream: cloud, tier: 2 }
  - { name: big, upstream: cloud, tier: 3 }
)";

TEST_F(ConfigLoaderTest, AppliesRoutingDefaultsAndAddsNoProfileWithoutTiers) {
  Config config = Load(std::string(kUpstreams) + kModels);
  const Model& m = config.models.at(0);
  EXPECT_EQ(m.tier, 0);
  EXPECT_EQ(m.kind, ModelKind::kCloud);
  EXPECT_EQ(m.context_window, 128000);
  EXPECT_EQ(m.max_output_tokens, 4096);
  EXPECT_EQ(m.prices.input, 0);
  EXPECT_EQ(m.prices.cached_input, 0);
  EXPECT_EQ(m.prices.output, 0);
  EXPECT_FALSE(m.supports.tools);
  EXPECT_FALSE(m.supports.vision);
  EXPECT_FALSE(m.supports.json_schema);
  EXPECT_TRUE(m.supports.streaming);
  EXPECT_THAT(config.profiles, IsEmpty());  // a plain proxy config stays valid
}

TEST_F(ConfigLoaderTest, AddsDefaultAutoProfileWhenModelsHaveTiers) {
  Config config = Load(kTiered);
  ASSERT_EQ(config.profiles.size(), 1u);
  const Profile& p = config.profiles[0];
  EXPECT_EQ(p.name, "auto");
  EXPECT_THAT(p.thresholds, ElementsAre(0.45, 0.75));
  EXPECT_THAT(p.kinds, IsEmpty());
  EXPECT_EQ(p.max_attempts, 3);
  EXPECT_EQ(p.expected_output_tokens, 256);
}

TEST_F(ConfigLoaderTest, ReadsEveryRoutingSetting) {
  env_["TIER"] = "4";
  Config config = Load(std::string(kUpstreams) + R"(
models:
  - name: big
    upstream: cloud
    tier: ${TIER}
    kind: self-hosted
    context_window: 1M
    max_output_tokens: 32k
    prices: { input: 3, cached_input: 0.3, output: 1.5e1 }
    supports: { tools: true, vision: yes, json_schema: on, streaming: false }
  - { name: embed, upstream: cloud, prices: { input: 0.02 }, context_window: 8191 }
profiles:
  - name: fast
    thresholds: [0.2, 0.5, 0.8]
    kinds: [self-hosted, cloud]
    max_attempts: 10
    expected_output_tokens: 1k
  - { name: one-tier, thresholds: [] }
)");
  const Model& m = config.models.at(0);
  EXPECT_EQ(m.tier, 4);
  EXPECT_EQ(m.kind, ModelKind::kSelfHosted);
  EXPECT_EQ(m.context_window, 1'000'000);
  EXPECT_EQ(m.max_output_tokens, 32'000);
  EXPECT_DOUBLE_EQ(m.prices.input, 3.0);
  EXPECT_DOUBLE_EQ(m.prices.cached_input, 0.3);
  EXPECT_DOUBLE_EQ(m.prices.output, 15.0);
  EXPECT_TRUE(m.supports.tools);
  EXPECT_TRUE(m.supports.vision);
  EXPECT_TRUE(m.supports.json_schema);
  EXPECT_FALSE(m.supports.streaming);
  const Model& embed = config.models.at(1);
  EXPECT_DOUBLE_EQ(embed.prices.cached_input, 0.02);  // defaults to input
  EXPECT_EQ(embed.prices.output, 0);                  // missing price: 0
  EXPECT_EQ(embed.max_output_tokens, 4096);
  ASSERT_EQ(config.profiles.size(), 2u);  // as configured: no default added
  const Profile& p = config.profiles[0];
  EXPECT_EQ(p.name, "fast");
  EXPECT_THAT(p.thresholds, ElementsAre(0.2, 0.5, 0.8));
  EXPECT_THAT(p.kinds, ElementsAre(ModelKind::kSelfHosted, ModelKind::kCloud));
  EXPECT_EQ(p.max_attempts, 10);
  EXPECT_EQ(p.expected_output_tokens, 1000);
  EXPECT_THAT(config.profiles[1].thresholds, IsEmpty());
}

TEST_F(ConfigLoaderTest, ShrinksTheDefaultOutputLimitToASmallContextWindow) {
  Config config = Load(std::string(kUpstreams) +
                       "models:\n  - { name: m, upstream: cloud, context_window: 2048 }\n");
  EXPECT_EQ(config.models.at(0).max_output_tokens, 2048);
}

TEST_F(ConfigLoaderTest, RejectsBadModelRoutingValues) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + R"(
models:
  - { name: a, upstream: cloud, tier: 0, kind: gpu, context_window: 0, max_output_tokens: lots }
  - { name: b, upstream: cloud, context_window: 8k, max_output_tokens: 16k }
  - { name: c, upstream: cloud, prices: { input: -1, cached_input: .inf, output: nan } }
  - { name: d, upstream: cloud, prices: { cached_input: 0.1 } }
  - { name: e, upstream: cloud, prices: {}, supports: { tools: maybe, streeming: true } }
  - { name: f, upstream: cloud, prices: 0.15, supports: [tools], context_window: 1.5M }
)"),
              ElementsAre("models[0].tier: must be at least 1",
                          "models[0].kind: must be cloud, edge or self-hosted",
                          "models[0].context_window: must be at least 1",
                          "models[0].max_output_tokens: must be a number of tokens such as "
                          "128000, 128k or 1M",
                          "models[1].max_output_tokens: must not exceed context_window",
                          "models[2].prices.input: must not be negative",
                          "models[2].prices.cached_input: must be a price in USD per 1M tokens, "
                          "such as 0.15",
                          "models[2].prices.output: must be a price in USD per 1M tokens, such "
                          "as 0.15",
                          "models[3].prices: must give input or output (USD per 1M tokens), or "
                          "both",
                          "models[4].prices: must give input or output (USD per 1M tokens), or "
                          "both",
                          "models[4].supports.tools: must be true or false",
                          "models[4].supports.streeming: unknown key (expected one of: tools, "
                          "vision, json_schema, streaming)",
                          "models[5].prices: must be a map, not a single value",
                          "models[5].supports: must be a map, not a list",
                          StartsWith("models[5].context_window: must be a number of tokens")));
}

TEST_F(ConfigLoaderTest, TargetSharesStartFromTheirCumulativeThresholds) {
  Config config = Load(std::string(kTiered) + R"(
profiles:
  - { name: auto, shares: [0.5, 0.3, 0.2] }
)");
  const Profile& p = config.profiles.at(0);
  EXPECT_EQ(p.shares, (std::vector<double>{0.5, 0.3, 0.2}));
  ASSERT_EQ(p.thresholds.size(), 2u);
  EXPECT_DOUBLE_EQ(p.thresholds[0], 0.5);
  EXPECT_DOUBLE_EQ(p.thresholds[1], 0.8);
}

TEST_F(ConfigLoaderTest, RejectsSharesThatDoNotAddUpOrComeWithThresholds) {
  EXPECT_THAT(Problems(std::string(kTiered) + R"(
profiles:
  - { name: a, shares: [0.5, 0.3] }
  - { name: b, shares: [0.5, 0.5], thresholds: [0.5] }
  - { name: c, shares: [1] }
  - { name: d, shares: [0.5, -0.5, 1] }
)"),
              ElementsAre("profiles[0].shares: must add up to 1 (they add up to 0.8)",
                          "profiles[1]: give thresholds or shares, not both",
                          StartsWith("profiles[2].shares: must list a traffic share per tier"),
                          StartsWith("profiles[3].shares[1]: must be a number greater than 0")));
}

TEST_F(ConfigLoaderTest, RejectsBadProfiles) {
  EXPECT_THAT(Problems(std::string(kTiered) + R"(
profiles:
  - { name: a, thresholds: [0.5, 0.5], kinds: [] }
  - { name: b, thresholds: [0, 1, x], kinds: [cloud, gpu, cloud] }
  - { name: c, thresholds: 0.5, kinds: edge, max_attempts: 0, expected_output_tokens: 0 }
  - { name: d, max_attempts: 11, weight: 2 }
  - { thresholds: [0.5] }
  - { name: "x\"y" }
)"),
              ElementsAre("profiles[0].thresholds[1]: must be greater than the threshold before it",
                          "profiles[0].kinds: must list at least one kind (leave it out to allow "
                          "every kind)",
                          "profiles[1].thresholds[0]: must be greater than 0 and less than 1",
                          "profiles[1].thresholds[1]: must be greater than 0 and less than 1",
                          "profiles[1].thresholds[2]: must be a number between 0 and 1, such as "
                          "0.45",
                          "profiles[1].kinds[1]: must be cloud, edge or self-hosted",
                          "profiles[1].kinds[2]: duplicate kind",
                          "profiles[2].thresholds: must be a list of scores, not a single value",
                          "profiles[2].kinds: must be a list of kinds, not a single value",
                          "profiles[2].max_attempts: must be between 1 and 10",
                          "profiles[2].expected_output_tokens: must be at least 1",
                          "profiles[3].max_attempts: must be between 1 and 10",
                          StartsWith("profiles[3].weight: unknown key (expected one of: name, "
                                     "thresholds, shares, kinds, max_attempts, expected_output_tokens, baseline)"),
                          "profiles[4].name: is required",
                          "profiles[5].name: must not contain quotes, backslashes or control "
                          "characters"));
}

TEST_F(ConfigLoaderTest, RejectsDuplicateProfileNamesAndNamesOfModels) {
  EXPECT_THAT(Problems(std::string(kTiered) + R"(
profiles:
  - name: auto
  - name: mid
  - name: auto
)"),
              ElementsAre("profiles[1].name: same as models[1].name (a profile and a model may "
                          "not share a name)",
                          "profiles[2].name: duplicate of profiles[0].name"));
  EXPECT_THAT(Problems(std::string(kTiered) + "  - { name: auto, upstream: cloud }\n"),
              ElementsAre("models[3].name: is \"auto\", the name of the default routing "
                          "profile; rename the model or configure profiles"));
}

TEST_F(ConfigLoaderTest, RequiresANonEmptyProfilesListWhenGiven) {
  EXPECT_THAT(Problems(std::string(kTiered) + "profiles: []\n"),
              ElementsAre("profiles: must list at least one entry"));
  EXPECT_THAT(Problems(std::string(kTiered) + "profiles:\n"),
              ElementsAre("profiles: must list at least one entry"));
  EXPECT_THAT(Problems(std::string(kTiered) + "profiles: { name: auto }\n"),
              ElementsAre("profiles: must be a list, not a map"));
}

TEST_F(ConfigLoaderTest, RejectsProfilesNoModelCanServe) {
  EXPECT_THAT(Problems(std::string(kTiered) + R"(
profiles:
  - { name: auto }                                # tier 3: big
  - { name: deep, thresholds: [0.3, 0.6, 0.9] }   # tier 4: none
  - { name: local, kinds: [edge, self-hosted] }   # tier 3 on the edge: none
  - { name: local-1, kinds: [edge], thresholds: [] }
  - { name: hosted, kinds: [self-hosted], thresholds: [] }
)"),
              ElementsAre("profiles[1]: no model has tier >= 4",
                          "profiles[2]: no model of an allowed kind has tier >= 3",
                          "profiles[4]: no model of an allowed kind has tier >= 1"));
}

TEST_F(ConfigLoaderTest, RejectsExplicitProfilesWhenNoModelHasATier) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels + "profiles: [{ name: auto }]\n"),
              ElementsAre("profiles: no model has a tier, so no profile can route (give models "
                          "a tier)"));
}

TEST_F(ConfigLoaderTest, RejectsTheDefaultProfileWhenNoModelReachesItsTopTier) {
  EXPECT_THAT(
      Problems(std::string(kUpstreams) + "models:\n  - { name: m, upstream: cloud, tier: 2 }\n"),
      ElementsAre("profiles: not given, so the default profile \"auto\" is used, but no "
                  "model has tier >= 3 (add one, or configure profiles)"));
}

TEST_F(ConfigLoaderTest, SkipsRoutingChecksWhenATierCannotBeRead) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + R"(
models: [{ name: m, upstream: cloud, tier: high }]
profiles: [{ name: auto, thresholds: [0.5, 2] }, { name: p, kinds: [gpu] }]
)"),
              ElementsAre("models[0].tier: must be an integer",
                          "profiles[0].thresholds[1]: must be greater than 0 and less than 1",
                          "profiles[1].kinds[0]: must be cloud, edge or self-hosted"));
}

TEST_F(ConfigLoaderTest, ReadsEverySetting) {
  std::string ca = ::testing::TempDir() + "config_loader_test_ca.pem";
  std::ofstream(ca) << "not really a certificate\n";
  env_["KEY"] = "sk-test";
  Config config = Load(R"(
listen: { address: "::", port: 0, threads: 4, max_header_bytes: 32KiB, max_body_bytes: 1048576,
          max_messages: 500, max_json_depth: 64, max_connections: 50, header_timeout: 250ms,
          keep_alive_timeout: 2m, shutdown_grace: 1h }
upstreams:
  - name: cloud
    base_url: https://[2001:db8::1]:8443/openai/v1/
    api_key_env: KEY
    headers: { OpenAI-Organization: org-1, X-Title: "switchyard" }
    max_connections: 7
    idle_connection_timeout: 9s
    ca_file: )" + ca + R"(
    insecure_skip_verify: true
    timeouts: { connect: 1s, tls_handshake: 2s, first_byte: 3s, idle: 4s, total: 5 }
models:
  - { name: big, upstream: cloud, upstream_model: "org/big-model:latest" }
)");
  const Listener& l = config.listener;
  EXPECT_EQ(l.address, "::");
  EXPECT_EQ(l.port, 0);
  EXPECT_EQ(l.threads, 4);
  EXPECT_EQ(l.max_header_bytes, 32u * 1024);
  EXPECT_EQ(l.max_body_bytes, 1048576u);
  EXPECT_EQ(l.max_messages, 500u);
  EXPECT_EQ(l.max_json_depth, 64u);
  EXPECT_EQ(l.max_connections, 50);
  EXPECT_EQ(l.header_timeout, milliseconds(250));
  EXPECT_EQ(l.keep_alive_timeout, minutes(2));
  EXPECT_EQ(l.shutdown_grace, minutes(60));
  const Upstream& u = config.upstreams.at(0);
  EXPECT_EQ(u.url.host, "2001:db8::1");
  EXPECT_EQ(u.url.port, 8443);
  EXPECT_EQ(u.url.path_prefix, "/openai/v1");
  EXPECT_EQ(u.api_key, "sk-test");
  EXPECT_THAT(u.headers,
              ElementsAre(std::pair<std::string, std::string>("OpenAI-Organization", "org-1"),
                          std::pair<std::string, std::string>("X-Title", "switchyard")));
  EXPECT_EQ(u.max_connections, 7);
  EXPECT_EQ(u.idle_connection_timeout, seconds(9));
  EXPECT_EQ(u.ca_file, ca);
  EXPECT_TRUE(u.insecure_skip_verify);
  EXPECT_EQ(u.timeouts.connect, seconds(1));
  EXPECT_EQ(u.timeouts.tls_handshake, seconds(2));
  EXPECT_EQ(u.timeouts.first_byte, seconds(3));
  EXPECT_EQ(u.timeouts.idle, seconds(4));
  EXPECT_EQ(u.timeouts.total, seconds(5));
  EXPECT_EQ(config.models.at(0).upstream_model, "org/big-model:latest");
  std::remove(ca.c_str());
}

TEST_F(ConfigLoaderTest, InterpolatesVariablesBeforeTypeConversion) {
  env_ = {{"PORT", "9000"}, {"HOST", "vllm.internal"}, {"ORG", "org-42"}, {"WAIT", "3s"}};
  Config config = Load(R"(
listen:
  port: "${PORT}"
  header_timeout: ${WAIT}   # plain ${...} is fine in block style; quote it inside { }
upstreams:
  - name: vllm
    base_url: http://${HOST}:8000/v1
    headers: { OpenAI-Organization: "${ORG}", X-Template: "$${NOT_A_VAR}" }
)" + std::string(kModels).replace(std::string(kModels).find("cloud"), 5, "vllm"));
  EXPECT_EQ(config.listener.port, 9000);
  EXPECT_EQ(config.listener.header_timeout, seconds(3));
  EXPECT_EQ(config.upstreams[0].base_url, "http://vllm.internal:8000/v1");
  EXPECT_EQ(config.upstreams[0].url.host, "vllm.internal");
  EXPECT_EQ(config.upstreams[0].headers[0].second, "org-42");
  EXPECT_EQ(config.upstreams[0].headers[1].second, "${NOT_A_VAR}");
}

TEST_F(ConfigLoaderTest, ReportsUnsetVariableWithPathAndName) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels + "listen: { address: '${BIND}' }\n"),
              ElementsAre("listen.address: environment variable BIND is not set"));
}

TEST_F(ConfigLoaderTest, BoundsTheMessageAndDepthLimits) {
  Config config = Load(std::string(kUpstreams) + kModels +
                       "listen: { max_messages: 1, max_json_depth: 16 }\n");
  EXPECT_EQ(config.listener.max_messages, 1u);
  EXPECT_EQ(config.listener.max_json_depth, 16u);
  config = Load(std::string(kUpstreams) + kModels + "listen: { max_json_depth: 1024 }\n");
  EXPECT_EQ(config.listener.max_json_depth, 1024u);
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels +
                       "listen: { max_messages: 0, max_json_depth: 15 }\n"),
              ElementsAre("listen.max_messages: must be at least 1",
                          "listen.max_json_depth: must be between 16 and 1024"));
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels +
                       "listen: { max_messages: 2k, max_json_depth: 1025 }\n"),
              ElementsAre("listen.max_messages: must be an integer",
                          "listen.max_json_depth: must be between 16 and 1024"));
}

TEST_F(ConfigLoaderTest, LimitsFromTheEnvironmentAreNotEchoedWhenWrong) {
  env_ = {{"MESSAGES", "sk-oops-a-secret"}, {"DEPTH", "64"}};
  Config config = Load(std::string(kUpstreams) + kModels + "listen: { max_json_depth: '${DEPTH}' }\n");
  EXPECT_EQ(config.listener.max_json_depth, 64u);
  const auto problems = Problems(std::string(kUpstreams) + kModels +
                                 "listen: { max_messages: '${MESSAGES}', max_json_depth: '${NONE}' }\n");
  EXPECT_THAT(problems, ElementsAre("listen.max_messages: must be an integer",
                                    "listen.max_json_depth: environment variable NONE is not set"));
  for (const std::string& problem : problems) EXPECT_EQ(problem.find("sk-oops"), std::string::npos);
}

TEST_F(ConfigLoaderTest, ReportsEveryProblemWithItsPath) {
  EXPECT_THAT(
      Problems(R"(
listen: { port: 70000, threads: -1, max_body_bytes: 8MB, header_timeout: 0s, max_connections: 0 }
upstreams:
  - name: a
    base_url: api.example.com
    max_connections: many
  - name: "b\tc"
    base_url: https://b.example.com
    insecure_skip_verify: maybe
    timeouts: { total: [1] }
models:
  - { name: x, upstream: a }
  - { name: y, upstream: "b\tc", upstream_model: "say \"hi\"" }
  - { upstream: a }
)"),
      ElementsAre("listen.port: must be between 0 and 65535", "listen.threads: must be at least 0",
                  "listen.max_body_bytes: must be a size such as 16384, 512KiB or 8MiB",
                  "listen.header_timeout: must be greater than 0",
                  "listen.max_connections: must be at least 1",
                  "upstreams[0].base_url: must start with http:// or https://",
                  "upstreams[0].max_connections: must be an integer",
                  "upstreams[1].name: must not contain quotes, backslashes or control characters",
                  "upstreams[1].insecure_skip_verify: must be true or false",
                  "upstreams[1].timeouts.total: must be a duration, not a list",
                  "models[1].upstream_model: must not contain quotes, backslashes or "
                  "control characters",
                  "models[2].name: is required"));
}

TEST_F(ConfigLoaderTest, ReportsMissingApiKeyWithoutLeakingValues) {
  const std::string yaml = std::string(kUpstreams) + "    api_key_env: CLOUD_KEY\n" + kModels;
  EXPECT_THAT(Problems(yaml),
              ElementsAre("upstreams[0].api_key_env: environment variable CLOUD_KEY is not set"));
  env_["CLOUD_KEY"] = "";
  EXPECT_THAT(Problems(yaml),
              ElementsAre("upstreams[0].api_key_env: environment variable CLOUD_KEY is empty"));
  env_["CLOUD_KEY"] = "sk-secret-value\r\n";
  EXPECT_THAT(Problems(yaml), ElementsAre("upstreams[0].api_key_env: environment variable "
                                          "CLOUD_KEY contains control characters (a trailing "
                                          "newline?)"));
  EXPECT_THAT(What(yaml), Not(HasSubstr("sk-secret")));
}

TEST_F(ConfigLoaderTest, NeverEchoesEnvironmentValuesInErrors) {
  env_ = {{"CLOUD_KEY", "sk-secret-value"},
          {"SECRET_URL", "sk-secret-value"},
          {"SECRET_HEADER", "sk-secret-value\n"},
          {"SECRET_MODEL", "sk-secret-value\""}};
  const std::string what = What(R"(
upstreams:
  - name: cloud
    base_url: ${SECRET_URL}
    api_key_env: CLOUD_KEY
    headers: { X-Api-Key: "${SECRET_HEADER}" }
  - name: other
    base_url: http://${SECRET_URL}
models:
  - { name: small, upstream: "${SECRET_MODEL}" }
  - { name: "${SECRET_MODEL}", upstream: cloud }
)");
  EXPECT_THAT(what, HasSubstr("upstreams[0].base_url: must start with http"));
  EXPECT_THAT(what, HasSubstr("upstreams[0].headers.X-Api-Key: value must not contain CR"));
  EXPECT_THAT(what, HasSubstr("models[0].upstream: no upstream is named \"${SECRET_MODEL}\""));
  EXPECT_THAT(what, HasSubstr("models[1].name: must not contain quotes"));
  EXPECT_THAT(what, Not(HasSubstr("sk-secret")));
}

TEST_F(ConfigLoaderTest, RejectsUnknownKeysAtEveryLevel) {
  EXPECT_THAT(
      Problems(R"(
listn: {}
listen: { prot: 1 }
upstreams:
  - name: cloud
    base_url: https://api.example.com/v1
    timeout: { connect: 1s }
    timeouts: { conect: 1s }
models:
  - { name: small, upstream: cloud, upstream_modle: x }
)"),
      ElementsAre(
          "listn: unknown key (expected one of: listen, upstreams, models, profiles, accounting, keys, budgets)",
          StartsWith("listen.prot: unknown key (expected one of: address, port, "),
          StartsWith("upstreams[0].timeout: unknown key (expected one of: name, "),
          "upstreams[0].timeouts.conect: unknown key (expected one of: connect, "
          "tls_handshake, first_byte, idle, total)",
          "models[0].upstream_modle: unknown key (expected one of: name, "
          "upstream, upstream_model, tier, kind, context_window, max_output_tokens, prices, "
          "supports, tokenizer)"));
}

TEST_F(ConfigLoaderTest, RejectsDuplicateKeysAndNames) {
  EXPECT_THAT(Problems(R"(
upstreams:
  - { name: cloud, base_url: "https://a.example.com" }
  - { name: edge, base_url: "http://127.0.0.1:11434", max_connections: 1, max_connections: 2 }
  - { name: cloud, base_url: "https://b.example.com" }
models:
  - { name: small, upstream: cloud }
  - { name: small, upstream: edge }
)"),
              ElementsAre("upstreams[1].max_connections: duplicate key",
                          "upstreams[2].name: duplicate of upstreams[0].name",
                          "models[1].name: duplicate of models[0].name"));
}

TEST_F(ConfigLoaderTest, RejectsUnknownUpstreamReference) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + "models:\n  - { name: m, upstream: clodu }\n"),
              ElementsAre("models[0].upstream: no upstream is named \"clodu\""));
  EXPECT_THAT(Problems(std::string(kUpstreams) + "models:\n  - { name: m, upstream: '' }\n"),
              ElementsAre("models[0].upstream: must not be empty"));
}

TEST_F(ConfigLoaderTest, RejectsForbiddenAndMalformedHeaders) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + R"(
    headers:
      Authorization: Bearer x
      host: example.com
      Transfer-Encoding: chunked
      Connection: close
      "Bad Name": x
      X-Ok: fine
      x-ok: twice
      X-Multi: "a\r\nInjected: yes"
)" + kModels),
              ElementsAre("upstreams[0].headers.Authorization: may not be set here: the proxy "
                          "sets Authorization from api_key_env",
                          "upstreams[0].headers.host: may not be set here: the proxy sets Host "
                          "from base_url",
                          HasSubstr("Transfer-Encoding: may not be set here"),
                          "upstreams[0].headers.Connection: may not be set here: Connection is a "
                          "hop-by-hop header managed by the proxy",
                          "upstreams[0].headers.Bad Name: is not a valid header name",
                          "upstreams[0].headers.x-ok: duplicate header (names are "
                          "case-insensitive)",
                          "upstreams[0].headers.X-Multi: value must not contain CR, LF or other "
                          "control characters"));
}

TEST_F(ConfigLoaderTest, RequiresNonEmptyUpstreamsAndModels) {
  EXPECT_THAT(Problems(""), ElementsAre("upstreams: is required", "models: is required"));
  EXPECT_THAT(Problems("upstreams: []\nmodels:\n"),
              ElementsAre("upstreams: must list at least one entry",
                          "models: must list at least one entry"));
  EXPECT_THAT(Problems("upstreams: { name: x }\nmodels: 3\n"),
              ElementsAre("upstreams: must be a list, not a map",
                          "models: must be a list, not a single value"));
  EXPECT_THAT(Problems("- just\n- a list\n"), Contains("(root): must be a map, not a list"));
  EXPECT_THAT(Problems(std::string(kUpstreams) + "models:\n  - 12\n"),
              ElementsAre("models[0]: must be a map, not a single value"));
  EXPECT_THAT(Problems(std::string(kModels) + "upstreams:\n  - {}\n"),
              ElementsAre("upstreams[0].name: is required", "upstreams[0].base_url: is required",
                          "models[0].upstream: no upstream is named \"cloud\""));
}

TEST_F(ConfigLoaderTest, RejectsBadListenAddressAndUnreadableCaFile) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + "    ca_file: /nonexistent/ca.pem\n" + kModels +
                       "listen: { address: localhost }\n"),
              UnorderedElementsAre(
                  "upstreams[0].ca_file: is not a readable file",
                  "listen.address: must be an IP address such as 127.0.0.1, 0.0.0.0 or ::"));
}

TEST_F(ConfigLoaderTest, ReportsYamlSyntaxErrorWithLineAndColumn) {
  EXPECT_THAT(Problems("upstreams:\n  - name: a\n    base_url: [unclosed\n"),
              ElementsAre(StartsWith("yaml: line ")));
  EXPECT_THAT(Problems("listen:\n  port: 1\n port: 2\n"),
              ElementsAre(StartsWith("yaml: line 3, column 2: ")));
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels + "---\nlisten: {}\n"),
              ElementsAre("yaml: expected a single document"));
}

TEST_F(ConfigLoaderTest, ReportsAnUnreadableFile) {
  try {
    LoadConfigFile("/nonexistent/switchyard.yaml", Env());
    FAIL() << "loaded a missing file";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre("/nonexistent/switchyard.yaml: cannot open: No such "
                                          "file or directory"));
  }
  EXPECT_THROW(LoadConfigFile(::testing::TempDir(), Env()), ConfigError);
}

TEST_F(ConfigLoaderTest, ReadsKeysBudgetsAndAccounting) {
  env_["WEB_KEY"] = "sk-web-secret";
  env_["ADMIN_KEY"] = "admin-secret";
  const Config config = Load(std::string(kUpstreams) + R"(
models:
  - { name: small, upstream: cloud, tier: 1, prices: { input: 0.1, output: 0.4 } }
  - { name: big, upstream: cloud, tier: 3, prices: { input: 2.5, output: 10, reasoning: 12 } }
  - { name: mid, upstream: cloud, tier: 3, prices: { input: 1, output: 4 }, tokenizer: cl100k_base }
accounting: { ledger: /tmp/x.db, flush_interval: 250ms, admin_key_env: ADMIN_KEY }
keys:
  - { id: web, tenant: acme, key_env: WEB_KEY }
  - { id: batch, sha256: 2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824 }
budgets:
  - { tenant: acme, period: month, limit_usd: 100 }
  - { key: batch, period: day, limit_usd: 2.5, soft_limit: 0.2 }
)");
  EXPECT_EQ(config.accounting.ledger, "/tmp/x.db");
  EXPECT_EQ(config.accounting.flush_interval, milliseconds(250));
  EXPECT_EQ(config.accounting.admin_key, "admin-secret");
  ASSERT_EQ(config.keys.size(), 2u);
  EXPECT_EQ(config.keys[0].tenant, "acme");
  // SHA-256("sk-web-secret") from sha256sum: the key itself is not kept.
  EXPECT_EQ(config.keys[0].sha256, "57e02aee901adfa73474129159029a5aad6b8e3816442b95c4dc28fb3c8e6dc6");
  EXPECT_EQ(config.keys[1].sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");  // "hello"
  EXPECT_EQ(config.keys[1].tenant, "batch");  // defaults to the id
  ASSERT_EQ(config.budgets.size(), 2u);
  EXPECT_EQ(config.budgets[0].scope, Budget::Scope::kTenant);
  EXPECT_EQ(config.budgets[0].period, BudgetPeriod::kMonth);
  EXPECT_EQ(config.budgets[1].scope, Budget::Scope::kKey);
  EXPECT_EQ(config.budgets[1].name, "batch");
  EXPECT_DOUBLE_EQ(config.budgets[1].limit_usd, 2.5);
  EXPECT_DOUBLE_EQ(config.budgets[1].soft_limit, 0.2);
  EXPECT_DOUBLE_EQ(config.models[1].prices.reasoning, 12);
  EXPECT_DOUBLE_EQ(config.models[0].prices.reasoning, 0.4);  // defaults to output
  EXPECT_EQ(config.models[2].tokenizer, "cl100k_base");
  // The default baseline is the strongest model: highest tier, then highest output price.
  ASSERT_EQ(config.profiles.size(), 1u);
  EXPECT_EQ(config.profiles[0].baseline, "big");
}

TEST_F(ConfigLoaderTest, RejectsBadKeysAndBudgetsWithoutEchoingSecrets) {
  env_["WEB_KEY"] = "sk-web-secret";
  const auto problems = Problems(std::string(kUpstreams) + R"(
models:
  - { name: small, upstream: cloud, tier: 1, tokenizer: gpt2 }
profiles:
  - { name: auto, thresholds: [], baseline: nope }
accounting: { flush_interval: 5m, admin_key_env: UNSET_ADMIN }
keys:
  - { id: web, key_env: WEB_KEY }
  - { id: web, sha256: abc }
  - { id: both, sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824, key_env: WEB_KEY }
  - { tenant: x, key_env: MISSING_KEY }
budgets:
  - { tenant: nobody, period: week, limit_usd: 0 }
  - { key: web, tenant: web, period: day, limit_usd: 1, soft_limit: 1 }
  - { key: web }
)");
  EXPECT_THAT(problems, Contains("models[0].tokenizer: must be o200k_base or cl100k_base"));
  EXPECT_THAT(problems, Contains("profiles[0].baseline: names no model of this config"));
  EXPECT_THAT(problems, Contains(StartsWith("accounting.flush_interval: must be at most 60s")));
  EXPECT_THAT(problems, Contains("accounting.admin_key_env: environment variable UNSET_ADMIN is not set"));
  EXPECT_THAT(problems, Contains("keys[1].id: duplicate of keys[0].id"));
  EXPECT_THAT(problems, Contains("keys[1].sha256: must be the key's SHA-256 digest: 64 hex digits"));
  EXPECT_THAT(problems, Contains("keys[2]: give sha256 or key_env (exactly one)"));
  EXPECT_THAT(problems, Contains("keys[3].id: is required"));
  EXPECT_THAT(problems, Contains("keys[3].key_env: environment variable MISSING_KEY is not set"));
  EXPECT_THAT(problems, Contains("budgets[0].tenant: no entry of keys has tenant \"nobody\""));
  EXPECT_THAT(problems, Contains("budgets[0].period: must be day or month"));
  EXPECT_THAT(problems, Contains("budgets[0].limit_usd: must be an amount in USD above 0 (at most 1e9)"));
  EXPECT_THAT(problems, Contains("budgets[1]: give key or tenant (exactly one)"));
  EXPECT_THAT(problems, Contains(StartsWith("budgets[1].soft_limit: must be a share")));
  EXPECT_THAT(problems, Contains("budgets[2].period: is required"));
  EXPECT_THAT(problems, Contains("budgets[2].limit_usd: is required"));
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("sk-web-secret")));
}

TEST_F(ConfigLoaderTest, RefusesBudgetsWithoutALedger) {
  EXPECT_THAT(Problems(std::string(kUpstreams) + kModels + R"(
accounting: { ledger: "off" }
keys: [{ id: a, sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 }]
budgets: [{ key: a, period: day, limit_usd: 5 }]
)"),
              ElementsAre(StartsWith("accounting.ledger: is off, but budgets are configured")));
}

TEST_F(ConfigLoaderTest, ReadsUpstreamHealthAndCapacitySettings) {
  const Config config = Load(R"(
upstreams:
  - name: vllm
    base_url: http://10.0.0.5:8000/v1
    circuit_breaker: { failures: 3, error_rate: 0.25, min_requests: 40, window: 1m, open_for: 5s }
    health_check: { path: /health, interval: 10s, timeout: 1s }
    max_concurrent: 16
    max_queue: 100
    queue_timeout: 2s
    retry_unanswered: true
    ask_stream_usage: false
)" + std::string(R"(
models:
  - { name: small, upstream: vllm }
)"));
  const Upstream& u = config.upstreams.at(0);
  EXPECT_EQ(u.circuit_breaker.failures, 3);
  EXPECT_DOUBLE_EQ(u.circuit_breaker.error_rate, 0.25);
  EXPECT_EQ(u.circuit_breaker.min_requests, 40);
  EXPECT_EQ(u.circuit_breaker.window, minutes(1));
  EXPECT_EQ(u.circuit_breaker.open_for, seconds(5));
  EXPECT_EQ(u.health_check.path, "/health");
  EXPECT_EQ(u.health_check.interval, seconds(10));
  EXPECT_EQ(u.max_concurrent, 16);
  EXPECT_EQ(u.max_queue, 100);
  EXPECT_EQ(u.queue_timeout, seconds(2));
  EXPECT_TRUE(u.retry_unanswered);
  EXPECT_FALSE(u.ask_stream_usage);
  EXPECT_THAT(Problems(std::string(kModels) + R"(
upstreams:
  - name: cloud
    base_url: https://api.example.com/v1
    circuit_breaker: { failures: 0, error_rate: 2 }
    health_check: { path: models }
)"),
              UnorderedElementsAre("upstreams[0].circuit_breaker.failures: must be between 1 and 1000000",
                                   StartsWith("upstreams[0].circuit_breaker.error_rate: must be a share"),
                                   StartsWith("upstreams[0].health_check.path: must be a path")));
}

}  // namespace
}  // namespace switchyard::config
