// TLS to upstreams: certificates made at test time by the openssl command; the proxy
// verifies the chain against a configured CA and the host name, or refuses to connect.
#include <cstdlib>
#include <filesystem>

#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

namespace fs = std::filesystem;

// A test CA, a certificate for localhost/127.0.0.1 and one for another host, both signed by it.
class TestPki {
 public:
  TestPki() : dir_(fs::path(::testing::TempDir()) / ("pki-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
        "-subj /CN=switchyard-test-ca -keyout ca.key -out ca.pem");
    Issue("localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1");
    Issue("other", "subjectAltName=DNS:other.example");
  }
  ~TestPki() { fs::remove_all(dir_); }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

 private:
  void Issue(const std::string& name, const std::string& san) {
    Run(fmt::format("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                    "-subj /CN={0} -keyout {0}.key -out {0}.csr",
                    name));
    Run(fmt::format("printf '{}\\n' > {}.ext", san, name));
    Run(fmt::format("openssl x509 -req -in {0}.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
                    "-days 2 -extfile {0}.ext -out {0}.pem",
                    name));
  }
  void Run(const std::string& command) {
    const std::string full = fmt::format("cd '{}' && {} >/dev/null 2>&1", dir_.string(), command);
    if (std::system(full.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  fs::path dir_;
};

class TlsUpstreamTest : public ProxyTest {
 protected:
  static void SetUpTestSuite() { pki_ = new TestPki(); }
  static void TearDownTestSuite() { delete pki_; }

  mock::MockOptions MockOptionsForTest() override {
    mock::MockOptions options = ProxyTest::MockOptionsForTest();
    const std::string cert = cert_name_;
    options.tls_cert_file = pki_->file(cert + ".pem");
    options.tls_key_file = pki_->file(cert + ".key");
    return options;
  }
  std::string HttpsUrl() const { return fmt::format("https://localhost:{}/v1", mock_->port()); }
  void StartWithCa() { StartProxy(fmt::format("    ca_file: {}", pki_->file("ca.pem")), "", HttpsUrl()); }

  static TestPki* pki_;
  std::string cert_name_ = "localhost";
};
TestPki* TlsUpstreamTest::pki_ = nullptr;

TEST_F(TlsUpstreamTest, VerifiesTheUpstreamAgainstTheConfiguredCa) {
  StartWithCa();
  Reply r = Post(kChat);
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(mock_->recorded_requests().at(0).authorization, std::string("Bearer ") + kUpstreamKey);
}

TEST_F(TlsUpstreamTest, StreamsOverTls) {
  StartWithCa();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"messages":[]})");
  ASSERT_EQ(client.ReadHead(), 200u);
  EXPECT_NE(client.ReadToEnd().find("data: [DONE]"), std::string::npos);
}

TEST_F(TlsUpstreamTest, RefusesAnUpstreamItCannotVerify) {
  StartProxy("", "", HttpsUrl());  // the system store does not know the test CA
  Reply r = Post(kChat);
  ExpectOpenAiError(r, 502, "upstream_tls");
  EXPECT_NE(r.body.find("certificate verify failed"), std::string::npos) << r.body;
  EXPECT_EQ(mock_->requests_served(), 0u);
}

TEST_F(TlsUpstreamTest, ConnectsWithoutVerificationOnlyWhenTheConfigSaysSo) {
  StartProxy("    insecure_skip_verify: true", "", HttpsUrl());
  EXPECT_EQ(Post(kChat).status, 200u);
}

class TlsWrongHostTest : public TlsUpstreamTest {
 protected:
  TlsWrongHostTest() { cert_name_ = "other"; }
};

TEST_F(TlsWrongHostTest, RefusesACertificateIssuedForAnotherHost) {
  StartWithCa();
  ExpectOpenAiError(Post(kChat), 502, "upstream_tls");
  EXPECT_EQ(mock_->requests_served(), 0u);
}

}  // namespace
}  // namespace switchyard::testing
