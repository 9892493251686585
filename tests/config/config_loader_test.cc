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
  ASSERT_NE(config.FindModel("text-embedding-3-small"), nullptr);
  EXPECT_EQ(config.FindModel("gpt-4o")->upstream_index, 0u);
}

TEST_F(ConfigLoaderTest, ProductionExampleLoadsWhenEveryKeyIsSet) {
  for (const char* name :
       {"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY", "VLLM_API_KEY"})
    env_[name] = std::string("key-for-") + name;
  env_["VLLM_HOST"] = "vllm.internal:8000";
  Config config = LoadConfigFile(kExamples + "production.yaml", Env());
  EXPECT_EQ(config.listener.max_body_bytes, 8u << 20);
  ASSERT_EQ(config.upstreams.size(), 6u);
  EXPECT_EQ(config.upstreams[0].api_key, "key-for-OPENAI_API_KEY");
  EXPECT_EQ(config.upstreams[4].url.host, "vllm.internal");
  EXPECT_EQ(config.upstreams[4].url.port, 8000);
  EXPECT_EQ(config.FindModel("claude-sonnet-4")->upstream_model, "claude-sonnet-4-20250514");
  EXPECT_EQ(config.upstreams[config.FindModel("gemini-2.0-flash")->upstream_index].url.path_prefix,
            "/v1beta/openai");
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
                  "upstreams[4].api_key_env: environment variable VLLM_API_KEY is not set"));
}

TEST_F(ConfigLoaderTest, AppliesDefaultsToOmittedSettings) {
  Config config = Load(std::string(kUpstreams) + kModels);
  const Listener defaults;
  EXPECT_EQ(config.listener.address, defaults.address);
  EXPECT_EQ(config.listener.port, defaults.port);
  EXPECT_EQ(config.listener.max_body_bytes, defaults.max_body_bytes);
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

TEST_F(ConfigLoaderTest, ReadsEverySetting) {
  std::string ca = ::testing::TempDir() + "config_loader_test_ca.pem";
  std::ofstream(ca) << "not really a certificate\n";
  env_["KEY"] = "sk-test";
  Config config = Load(R"(
listen: { address: "::", port: 0, threads: 4, max_header_bytes: 32KiB, max_body_bytes: 1048576,
          max_connections: 50, header_timeout: 250ms, keep_alive_timeout: 2m,
          shutdown_grace: 1h }
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
  EXPECT_THAT(Problems(R"(
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
              ElementsAre("listn: unknown key (expected one of: listen, upstreams, models)",
                          StartsWith("listen.prot: unknown key (expected one of: address, port, "),
                          StartsWith("upstreams[0].timeout: unknown key (expected one of: name, "),
                          "upstreams[0].timeouts.conect: unknown key (expected one of: connect, "
                          "tls_handshake, first_byte, idle, total)",
                          "models[0].upstream_modle: unknown key (expected one of: name, "
                          "upstream, upstream_model)"));
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

}  // namespace
}  // namespace switchyard::config
