// A fixture for tests of the whole proxy on real sockets: an in-process Server on port 0
// in front of the mock upstream, driven by a blocking HTTP client.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <functional>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/mock_upstream.h"
#include "config/config_loader.h"
#include "proxy/runtime.h"
#include "proxy/server.h"
#include "tests/proxy/test_client.h"

namespace switchyard::testing {

using namespace std::chrono_literals;

constexpr char kUpstreamKey[] = "sk-upstream-secret-4f1c";
constexpr char kChat[] = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello"}]})";

// A client key as the config stores it: the hex SHA-256 digest.
inline std::string Sha256Hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char b : digest) hex += fmt::format("{:02x}", b);
  return hex;
}

// The config's model named `name` (which must exist), for tests to change it.
inline config::Model& FindModel(config::Config& c, const std::string& name) {
  return *std::find_if(c.models.begin(), c.models.end(), [&](auto& m) { return m.name == name; });
}

inline uint16_t UnusedPort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

// Waits for `condition`, polling, up to `limit`; for state another thread changes.
template <class F>
bool Eventually(F condition, std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class ProxyTest : public ::testing::Test {
 protected:
  virtual mock::MockOptions MockOptionsForTest() {
    mock::MockOptions options;
    options.output_tokens = 5;
    return options;
  }

  void SetUp() override {
    mock_ = std::make_unique<mock::MockUpstream>(MockOptionsForTest());
    mock_->Start();
    access_log_path_ = ::testing::TempDir() + "access-" + std::to_string(::getpid()) + ".log";
    ledger_path_ = ::testing::TempDir() + "ledger-" + std::to_string(::getpid()) + ".db";
    RemoveLedger();
  }

  void RemoveLedger() {
    for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((ledger_path_ + suffix).c_str());
  }

  void TearDown() override {
    server_.reset();
    mock_->Stop();
    if (!HasFailure()) ::unlink(access_log_path_.c_str());
    RemoveLedger();
  }

  // The proxy in front of the mock ("mock") and of a port nobody listens on ("dead").
  void StartProxy(const std::string& upstream_extra = "", const std::string& listen_extra = "",
                  const std::string& base_url = "",
                  const std::function<void(config::Config&)>& tweak = {}) {
    const std::string yaml = fmt::format(R"(
listen:
  address: 127.0.0.1
  port: 0
  threads: 2
{}
upstreams:
  - name: mock
    base_url: {}
    api_key_env: MOCK_KEY
{}
  - name: dead
    base_url: http://127.0.0.1:{}/v1
models:
  - name: gpt-4o-mini
    upstream: mock
  - name: llama3.2-3b
    upstream: mock
    upstream_model: "llama3.2:3b"
  - name: dead-model
    upstream: dead
)",
                                         listen_extra,
                                         base_url.empty()
                                             ? fmt::format("http://127.0.0.1:{}/v1", mock_->port())
                                             : base_url,
                                         upstream_extra, UnusedPort());
    auto env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "MOCK_KEY") return kUpstreamKey;
      return std::nullopt;
    };
    config::Config config = config::LoadConfigString(yaml, env);
    config.accounting.ledger = ledger_path_;  // each test its own ledger file
    if (tweak) tweak(config);
    auto runtime = Runtime::Build(std::move(config));
    ServerOptions options;
    options.access_log_fd =
        ::open(access_log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    server_ = std::make_unique<Server>(runtime, options);
    server_->Start();
  }

  uint16_t port() const { return server_->port(); }
  Reply Post(const std::string& body, const Headers& headers = {},
             const std::string& target = "/v1/chat/completions") {
    return TestClient(port()).Post(target, body, headers);
  }
  Reply Get(const std::string& target) {
    return TestClient(port()).Request(boost::beast::http::verb::get, target);
  }
  std::string AccessLog() {
    std::ifstream in(access_log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static void ExpectOpenAiError(const Reply& r, unsigned status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(R"({"error":{"message":")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(fmt::format(R"("code":"{}")", code)), std::string::npos) << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_FALSE(r.header("x-request-id").empty());
  }

  std::unique_ptr<mock::MockUpstream> mock_;
  std::unique_ptr<Server> server_;
  std::string access_log_path_;
  std::string ledger_path_;
};

}  // namespace switchyard::testing
