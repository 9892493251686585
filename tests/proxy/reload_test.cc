// Hot reload on real sockets: new requests see the new config at once, requests and streams in
// flight finish on the one they started with, unchanged upstreams keep their pools and their
// health, budgets keep their spend, and nothing fails while reloads happen under load.
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "config/value_parsers.h"
#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

constexpr char kClientKey[] = "sk-client-reload-5e1a";

class ReloadTest : public ProxyTest {
 protected:
  // The running config, changed by `edit`, built on the running runtime and swapped in.
  std::shared_ptr<const Runtime> Reload(const std::function<void(config::Config&)>& edit) {
    const auto current = server_->runtime();
    config::Config next = current->config();
    edit(next);
    auto runtime = Runtime::Build(std::move(next), nullptr, current.get());
    server_->Reload(runtime);
    return runtime;
  }
  static void AddModel(config::Config& c, const std::string& name, std::size_t upstream_index) {
    config::Model model = c.models[0];
    model.name = model.upstream_model = name;
    model.upstream = c.upstreams[upstream_index].name;
    model.upstream_index = upstream_index;
    c.models.push_back(model);
  }
  static void RemoveModel(config::Config& c, const std::string& name) {
    std::erase_if(c.models, [&](const config::Model& m) { return m.name == name; });
  }
  static std::string Chat(const std::string& model) {
    return fmt::format(R"({{"model":"{}","messages":[{{"role":"user","content":"Hi"}}]}})", model);
  }
  // Rows in the ledger file, after the server has gone (which flushes it).
  long LedgerRowCount() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(ledger_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM requests", -1, &stmt, nullptr);
    const long n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }
};

TEST_F(ReloadTest, NewRequestsSeeTheNewConfigAndUnchangedUpstreamsKeepTheirConnections) {
  StartProxy();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Post(kChat).status, 200u);  // both workers' pools
  const auto connections = mock_->connections_accepted();

  Reload([](config::Config& c) {
    AddModel(c, "gpt-4o", 0);
    RemoveModel(c, "llama3.2-3b");
  });
  ASSERT_TRUE(Eventually([&] { return Post(Chat("gpt-4o")).status == 200; }));
  ExpectOpenAiError(Post(Chat("llama3.2-3b")), 404, "model_not_found");
  EXPECT_NE(Get("/v1/models").body.find(R"("id":"gpt-4o")"), std::string::npos);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Post(kChat).status, 200u);
  // Every request after the reload went over a connection opened before it.
  EXPECT_EQ(mock_->connections_accepted(), connections);
}

TEST_F(ReloadTest, AMovedUpstreamGetsNewConnectionsAndRotatedKeysApplyAtOnce) {
  StartProxy();
  ASSERT_EQ(Post(kChat).status, 200u);
  mock::MockUpstream other(MockOptionsForTest());
  other.Start();
  Reload([&](config::Config& c) {
    c.upstreams[0].base_url = fmt::format("http://127.0.0.1:{}/v1", other.port());
    c.upstreams[0].url = config::ParseBaseUrl(c.upstreams[0].base_url, nullptr);
    c.upstreams[0].api_key = "sk-rotated-key-0b7d";
  });
  ASSERT_TRUE(Eventually([&] {
    Post(kChat);
    return other.requests_served() > 0;
  }));
  const auto seen = other.recorded_requests();
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().authorization, "Bearer sk-rotated-key-0b7d");
}

TEST_F(ReloadTest, AStreamInFlightFinishesOnTheConfigItStartedWith) {
  StartProxy();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"messages":[]})",
              {{"x-mock-gap-ms", "30"}, {"x-mock-tokens", "20"}});
  ASSERT_EQ(client.ReadHead(), 200u);
  ASSERT_TRUE(client.ReadSome());
  // The stream's model goes away, and its upstream now points at a port nobody listens on.
  Reload([&](config::Config& c) {
    RemoveModel(c, "gpt-4o-mini");
    c.upstreams[0].base_url = fmt::format("http://127.0.0.1:{}/v1", UnusedPort());
    c.upstreams[0].url = config::ParseBaseUrl(c.upstreams[0].base_url, nullptr);
  });
  ASSERT_TRUE(Eventually([&] { return Post(kChat).status == 404; }));
  const std::string rest = client.ReadToEnd();
  EXPECT_TRUE(client.stream_complete());
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos);
  server_.reset();
  EXPECT_GE(LedgerRowCount(), 2);
}

TEST_F(ReloadTest, AnUnchangedUpstreamKeepsItsOpenCircuit) {
  StartProxy();
  const std::string dead = Chat("dead-model");
  for (int i = 0; i < 5; ++i) Post(dead);  // five failures in a row open the breaker
  ASSERT_NE(Get("/readyz").body.find(R"("dead":"down")"), std::string::npos);
  Reload([](config::Config& c) { AddModel(c, "gpt-4o", 0); });
  ASSERT_TRUE(Eventually([&] { return Post(Chat("gpt-4o")).status == 200; }));
  EXPECT_NE(Get("/readyz").body.find(R"("dead":"down")"), std::string::npos);
  ExpectOpenAiError(Post(dead), 503, "upstream_unavailable");  // skipped, not tried again
  // A new breaker setting starts the upstream afresh.
  Reload([](config::Config& c) { c.upstreams[1].circuit_breaker.failures = 7; });
  EXPECT_TRUE(Eventually([&] { return Get("/readyz").body.find(R"("dead":"up")") != std::string::npos; }));
}

TEST_F(ReloadTest, BudgetsKeepTheirSpendAndTakeNewLimits) {
  StartProxy("", "", "", [](config::Config& c) {
    for (auto& m : c.models) m.prices = {1, 1, 1, 1};  // USD per 1M tokens
    c.keys = {{"a", "acme", Sha256Hex(kClientKey)}};
    c.budgets = {{config::Budget::Scope::kTenant, "acme", config::BudgetPeriod::kDay, 1, 0}};
  });
  const Headers key{{"authorization", std::string("Bearer ") + kClientKey}};
  ASSERT_EQ(Post(kChat, key).status, 200u);
  const auto before = server_->runtime();
  const std::size_t id = before->budget_ids()[0];
  ASSERT_TRUE(Eventually([&] { return before->budgets().state(id, accounting::NowMs()).spent_nano_usd > 0; }));
  const auto spent = before->budgets().state(id, accounting::NowMs()).spent_nano_usd;

  // Same scope, name and period: the same budget, with the new limit.
  auto after = Reload([&](config::Config& c) { c.budgets[0].limit_usd = 2; });
  EXPECT_EQ(after->budget_ids()[0], id);
  EXPECT_EQ(after->budgets().state(id, accounting::NowMs()).spent_nano_usd, spent);
  EXPECT_EQ(after->budgets().state(id, accounting::NowMs()).limit_nano_usd, 2 * accounting::kNanoPerUsd);

  // A limit below what was spent refuses the next request.
  Reload([&](config::Config& c) { c.budgets[0].limit_usd = 1e-9; });
  ASSERT_TRUE(Eventually([&] { return Post(kChat, key).status == 429; }));

  // A budget the reload adds starts from the ledger, not from zero.
  after = Reload([&](config::Config& c) {
    c.budgets[0].limit_usd = 2;
    c.budgets.push_back({config::Budget::Scope::kKey, "a", config::BudgetPeriod::kMonth, 5, 0});
  });
  EXPECT_EQ(after->budgets().state(after->budget_ids()[1], accounting::NowMs()).spent_nano_usd, spent);
}

TEST_F(ReloadTest, NoRequestFailsWhileTheConfigReloadsUnderLoad) {
  StartProxy();
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      const std::string body = t % 2 ? std::string(kChat)
                                     : R"({"model":"gpt-4o-mini","stream":true,"messages":[]})";
      while (!stop) {
        TestClient client(port());  // keep-alive: many requests per connection
        for (int i = 0; i < 20 && !stop; ++i) {
          Reply r = client.Post("/v1/chat/completions", body, {{"x-mock-gap-ms", "1"}});
          ++sent;
          if (r.status != 200 || (t % 2 == 0 && r.body.find("[DONE]") == std::string::npos)) ++failed;
        }
      }
    });
  }
  for (int i = 0; i < 30; ++i) {
    std::this_thread::sleep_for(20ms);
    // Alternate prices and a model that comes and goes; the requests' model stays.
    Reload([i](config::Config& c) {
      FindModel(c, "gpt-4o-mini").prices.input = 0.1 * (i % 3);
      if (i % 2) AddModel(c, "gpt-4o", 0);
    });
  }
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_GT(sent.load(), 30);
  EXPECT_EQ(failed.load(), 0);
  server_.reset();  // flushes the ledger
  EXPECT_EQ(LedgerRowCount(), sent.load());
}

}  // namespace
}  // namespace switchyard::testing
