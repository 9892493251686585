// Spend tracking end to end on real sockets: usage in streams (asked for and hidden), usage
// estimated when none is reported, client keys, budgets under concurrency and across a
// restart, the SQLite ledger and GET /v1/spend.
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <regex>
#include <thread>

#include "proxy/accounting/money.h"
#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

constexpr char kClientKeyA[] = "sk-client-a-7d2e";
constexpr char kClientKeyB[] = "sk-client-b-91c0";
constexpr char kAdminKey[] = "sk-admin-55aa";

using Row = std::map<std::string, std::string>;

class AccountingTest : public ProxyTest {
 protected:
  // The ledger's rows once it has `n` (a request is accounted just after its last byte is
  // sent, so a client may see the answer first).
  std::vector<Row> LedgerRows(std::size_t n) {
    std::vector<Row> rows;
    Eventually([&] { return (rows = LedgerRows()).size() >= n; });
    return rows;
  }

  // Every ledger row, oldest first, after the writer committed everything.
  std::vector<Row> LedgerRows() {
    server_->ledger()->Flush();
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(ledger_path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT * FROM requests ORDER BY rowid", -1, &stmt, nullptr),
              SQLITE_OK);
    std::vector<Row> rows;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      Row row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const auto* text = sqlite3_column_text(stmt, i);
        row[sqlite3_column_name(stmt, i)] = text ? reinterpret_cast<const char*>(text) : "";
      }
      rows.push_back(std::move(row));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  // Prices of 1 USD per 1M tokens for every token kind make costs easy to check; client
  // keys for tenants "acme" (key a) and "globex" (key b).
  void StartWithKeys(const std::function<void(config::Config&)>& more = {}) {
    StartProxy("", "", "", [&](config::Config& c) {
      for (auto& m : c.models) m.prices = {1, 1, 1, 1};
      c.keys = {{"a", "acme", Sha256Hex(kClientKeyA)}, {"b", "globex", Sha256Hex(kClientKeyB)}};
      c.accounting.admin_key = kAdminKey;
      if (more) more(c);
    });
  }
  static Headers Bearer(const std::string& key, Headers more = {}) {
    more["authorization"] = "Bearer " + key;
    return more;
  }
};

// "id" and "created" differ between two responses; everything else must match.
std::string Normalized(std::string body) {
  body = std::regex_replace(body, std::regex(R"("id":"[^"]*")"), R"("id":"")");
  return std::regex_replace(body, std::regex(R"("created":\d+)"), R"("created":0)");
}

TEST_F(AccountingTest, AsksAStreamForItsUsageAndHidesTheExtraChunkFromTheClient) {
  StartProxy();
  const std::string body =
      R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})";
  Reply proxied = Post(body);
  ASSERT_EQ(proxied.status, 200u) << proxied.body;
  // The upstream was asked for usage...
  const auto recorded = mock_->recorded_requests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_NE(recorded[0].body.find(R"("stream_options":{"include_usage":true})"), std::string::npos)
      << recorded[0].body;
  // ...and the client got exactly what the upstream sends a client that did not ask.
  Reply direct = TestClient(mock_->port()).Post("/v1/chat/completions", body);
  ASSERT_EQ(direct.status, 200u);
  EXPECT_EQ(Normalized(proxied.body), Normalized(direct.body));
  EXPECT_EQ(proxied.body.find(R"("usage":{)"), std::string::npos) << proxied.body;
  // The hidden chunk's usage is in the ledger.
  const auto rows = LedgerRows(1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("usage_source"), "reported");
  EXPECT_EQ(rows[0].at("completion_tokens"), "5");
  EXPECT_EQ(rows[0].at("prompt_tokens"), std::to_string(recorded[0].body.size() / 4));
}

TEST_F(AccountingTest, PassesTheUsageChunkThroughWhenTheClientAskedForIt) {
  StartProxy();
  const std::string body =
      R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]})";
  Reply proxied = Post(body);
  ASSERT_EQ(proxied.status, 200u);
  EXPECT_EQ(mock_->recorded_requests().at(0).body, body);  // forwarded as it came
  Reply direct = TestClient(mock_->port()).Post("/v1/chat/completions", body);
  EXPECT_EQ(Normalized(proxied.body), Normalized(direct.body));
  EXPECT_NE(proxied.body.find(R"("choices":[],"usage":{)"), std::string::npos) << proxied.body;
}

TEST_F(AccountingTest, EstimatesUsageWithTheTokenizerWhenTheUpstreamReportsNone) {
  StartProxy();
  Reply r = Post(
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello to the world"}]})",
      {{"x-mock-fault", "no-usage"}, {"x-mock-tokens", "12"}});
  ASSERT_EQ(r.status, 200u);
  Reply s = Post(R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hi"}]})",
                 {{"x-mock-fault", "no-usage"}, {"x-mock-tokens", "12"}});
  ASSERT_EQ(s.status, 200u);
  const auto rows = LedgerRows(2);
  ASSERT_EQ(rows.size(), 2u);
  for (const Row& row : rows) {
    EXPECT_EQ(row.at("usage_source"), "estimated");
    // "Say hello to the world" is 5 tokens, plus 3 per message and 3 to prime the reply.
    // The mock's 12 words are at least 12 tokens.
    EXPECT_GE(std::stoi(row.at("completion_tokens")), 12) << row.at("completion_tokens");
    EXPECT_LE(std::stoi(row.at("completion_tokens")), 40);
  }
  EXPECT_EQ(rows[0].at("prompt_tokens"), "11");
  EXPECT_EQ(rows[1].at("prompt_tokens"), "7");
}

TEST_F(AccountingTest, AccountsTheTokensOfAStreamTheClientLeftAndOfOneTheUpstreamCut) {
  StartWithKeys();
  const Headers key = Bearer(kClientKeyA);
  {
    TestClient client(port());
    client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
                R"({"model":"gpt-4o-mini","stream":true,"messages":[]})",
                Bearer(kClientKeyA, {{"x-mock-gap-ms", "20"}, {"x-mock-tokens", "1000"}}));
    ASSERT_EQ(client.ReadHead(), 200u);
    ASSERT_TRUE(client.ReadSome());
    client.Close();
  }
  Reply cut = Post(R"({"model":"gpt-4o-mini","stream":true,"messages":[]})",
                   Bearer(kClientKeyA, {{"x-mock-fault", "reset-mid"}, {"x-mock-tokens", "40"}}));
  EXPECT_EQ(cut.status, 200u);
  ASSERT_EQ(LedgerRows(2).size(), 2u);
  std::map<std::string, Row> by_error;  // the order depends on when each end is noticed
  for (const Row& row : LedgerRows()) {
    EXPECT_EQ(row.at("usage_source"), "estimated");
    EXPECT_GT(std::stoi(row.at("completion_tokens")), 0);
    EXPECT_GT(std::stoll(row.at("cost_nano_usd")), 0);
    EXPECT_EQ(row.at("tenant"), "acme");
    by_error[row.at("error_kind")] = row;
  }
  ASSERT_TRUE(by_error.contains("client_closed") && by_error.contains("upstream_reset"));
  EXPECT_LT(std::stoi(by_error["client_closed"].at("completion_tokens")), 1000);
  EXPECT_LT(std::stoi(by_error["upstream_reset"].at("completion_tokens")), 40);
}

TEST_F(AccountingTest, RefusesMissingAndUnknownKeysInOpenAiShapeWithoutEchoingThem) {
  StartWithKeys();
  Reply missing = Post(kChat);
  ExpectOpenAiError(missing, 401, "missing_api_key");
  EXPECT_EQ(missing.header("x-should-retry"), "false");
  Reply unknown = Post(kChat, Bearer("sk-not-a-key-123"));
  ExpectOpenAiError(unknown, 401, "invalid_api_key");
  EXPECT_EQ(unknown.body.find("sk-not-a-key-123"), std::string::npos);
  ExpectOpenAiError(Get("/v1/models"), 401, "missing_api_key");
  EXPECT_EQ(mock_->requests_served(), 0u);
  // Health and metrics stay open for probes and scrapers.
  EXPECT_EQ(Get("/healthz").status, 200u);
  EXPECT_EQ(Get("/metrics").status, 200u);

  Reply ok = Post(kChat, Bearer(kClientKeyB));
  ASSERT_EQ(ok.status, 200u) << ok.body;
  Reply azure_style = Post(kChat, {{"api-key", kClientKeyA}});
  ASSERT_EQ(azure_style.status, 200u);
  // The client's key is not forwarded upstream; the upstream's is.
  EXPECT_EQ(mock_->recorded_requests().at(0).authorization, std::string("Bearer ") + kUpstreamKey);
  const auto rows = LedgerRows(4);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("status"), "401");
  EXPECT_EQ(rows[0].at("key_id"), "");
  EXPECT_EQ(rows[2].at("key_id"), "b");
  EXPECT_EQ(rows[2].at("tenant"), "globex");
  EXPECT_EQ(rows[3].at("tenant"), "acme");
}

// The cost of one kChat-sized request at 1 USD per 1M tokens, as the mock reports usage.
std::int64_t ActualNano(const std::string& body, int completion) {
  return (static_cast<std::int64_t>(body.size() / 4) + completion) * 1000;
}

TEST_F(AccountingTest, ConcurrentRequestsNeverSpendPastABudget) {
  // Each request may cost at most (body bytes + 5) tokens and really costs about a quarter
  // of that: the 5 USD-thousandths fit a few dozen, not 200.
  const std::string body = R"({"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"Hello"}]})";
  const std::int64_t limit_nano = 25 * ActualNano(body, 5);
  StartWithKeys([&](config::Config& c) {
    c.budgets = {{config::Budget::Scope::kTenant, "acme", config::BudgetPeriod::kDay,
                  static_cast<double>(limit_nano) / accounting::kNanoPerUsd, 0}};
  });
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 200; ++i)
    clients.emplace_back([&] {
      Reply r = Post(body, Bearer(kClientKeyA, {{"x-mock-latency-ms", "20"}}));
      if (r.status == 200) ++ok;
      else if (r.status == 429 && r.body.find(R"("code":"budget_exceeded")") != std::string::npos &&
               r.header("x-should-retry") == "false")
        ++refused;
      else ++other;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_GT(refused.load(), 0);
  EXPECT_LE(ok.load(), 25);
  const auto rows = LedgerRows(200);
  ASSERT_EQ(rows.size(), 200u);  // refusals are rows too
  std::int64_t spent = 0;
  for (const Row& row : rows) spent += std::stoll(row.at("cost_nano_usd"));
  EXPECT_LE(spent, limit_nano);
  EXPECT_EQ(spent, ok.load() * ActualNano(body, 5));
  // Key b's tenant has no budget.
  EXPECT_EQ(Post(body, Bearer(kClientKeyB)).status, 200u);
}

TEST_F(AccountingTest, ABudgetSpentBeforeARestartStaysSpent) {
  const std::string body = R"({"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"Hello"}]})";
  // Room for the first request's worst case (bytes + 5 tokens) and two more real costs.
  const std::int64_t worst = (static_cast<std::int64_t>(body.size()) + 5) * 1000;
  const std::int64_t limit_nano = worst + 2 * ActualNano(body, 5);
  auto budget = [&](config::Config& c) {
    c.budgets = {{config::Budget::Scope::kKey, "a", config::BudgetPeriod::kMonth,
                  static_cast<double>(limit_nano) / accounting::kNanoPerUsd, 0}};
  };
  StartWithKeys(budget);
  int served = 0;
  while (Post(body, Bearer(kClientKeyA)).status == 200)
    LedgerRows(++served);  // settled before the next one asks
  EXPECT_EQ(served, 3);
  server_.reset();  // a clean shutdown flushes the ledger

  StartWithKeys(budget);
  Reply r = Post(body, Bearer(kClientKeyA));
  ExpectOpenAiError(r, 429, "budget_exceeded");
  EXPECT_NE(r.body.find("monthly budget of key 'a'"), std::string::npos) << r.body;
  EXPECT_EQ(LedgerRows(5).size(), 5u);
}

TEST_F(AccountingTest, ASoftLimitRoutesToTheCheapestTierInsteadOfRefusing) {
  StartWithKeys([](config::Config& c) {
    for (auto& m : c.models) {
      if (m.name == "llama3.2-3b") m.tier = 1, m.prices = {0.01, 0.01, 0.01, 0.01};
      if (m.name == "gpt-4o-mini") m.tier = 2;
    }
    config::Profile profile;
    profile.name = "auto";
    profile.thresholds = {0.0001};  // every prompt needs tier 2
    profile.baseline = "gpt-4o-mini";
    c.profiles = {profile};
    c.budgets = {{config::Budget::Scope::kTenant, "acme", config::BudgetPeriod::kDay, 1000, 0.2}};
  });
  // Acme has spent 900 of its 1000 USD today: below its soft limit of 20% left.
  server_->runtime()->budgets().Restore(0, 900 * accounting::kNanoPerUsd, accounting::NowMs());
  const std::string body = R"({"model":"auto","messages":[{"role":"user","content":"Prove it."}]})";
  Reply b = Post(body, Bearer(kClientKeyB));
  EXPECT_EQ(b.header("x-switchyard-model"), "gpt-4o-mini");
  Reply a = Post(body, Bearer(kClientKeyA));
  ASSERT_EQ(a.status, 200u);
  EXPECT_EQ(a.header("x-switchyard-model"), "llama3.2-3b");
  // Savings are measured against the baseline: the same tokens on gpt-4o-mini.
  std::map<std::string, Row> by_tenant;
  for (const Row& row : LedgerRows(2)) by_tenant[row.at("tenant")] = row;
  const Row& acme = by_tenant["acme"];
  EXPECT_EQ(acme.at("profile"), "auto");
  EXPECT_EQ(std::stoll(acme.at("baseline_cost_nano_usd")), 100 * std::stoll(acme.at("cost_nano_usd")));
  EXPECT_EQ(by_tenant["globex"].at("baseline_cost_nano_usd"), by_tenant["globex"].at("cost_nano_usd"));
}

TEST_F(AccountingTest, SpendEndpointAnswersTheAdminKeyOnly) {
  StartWithKeys();
  ASSERT_EQ(Post(kChat, Bearer(kClientKeyA)).status, 200u);
  ASSERT_EQ(Post(kChat, Bearer(kClientKeyB)).status, 200u);
  ASSERT_EQ(Post(kChat, Bearer(kClientKeyB)).status, 200u);
  ASSERT_EQ(LedgerRows(3).size(), 3u);
  TestClient client(port());
  Reply r = client.Request(boost::beast::http::verb::get, "/v1/spend?by=tenant&since=1d", "",
                           Bearer(kAdminKey));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find(R"("group_by":"tenant")"), std::string::npos) << r.body;
  const std::int64_t one = ActualNano(kChat, 5);
  EXPECT_NE(r.body.find(fmt::format(R"("group":"globex","requests":2)")), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(accounting::FormatUsd(2 * one)), std::string::npos) << r.body;
  ExpectOpenAiError(TestClient(port()).Request(boost::beast::http::verb::get, "/v1/spend", "",
                                               Bearer(kClientKeyA)),
                    401, "invalid_api_key");
  ExpectOpenAiError(TestClient(port()).Request(boost::beast::http::verb::get,
                                               "/v1/spend?by=colour", "", Bearer(kAdminKey)),
                    400, "invalid_parameter");
}

TEST_F(AccountingTest, MetricsCarryTiersTokensCostsAndTenants) {
  StartWithKeys([](config::Config& c) {
    c.budgets = {{config::Budget::Scope::kTenant, "acme", config::BudgetPeriod::kMonth, 10, 0}};
    c.models[1].prices.fixed_usd_per_hour = 0.8;  // llama3.2-3b's machine
  });
  ASSERT_EQ(Post(kChat, Bearer(kClientKeyA)).status, 200u);
  ASSERT_EQ(LedgerRows(1).size(), 1u);  // accounted, so counted too
  const std::string metrics = Get("/metrics").body;
  auto value = [&](const std::string& series) {
    const std::size_t at = metrics.find(series + " ");
    return at == std::string::npos ? -1.0 : std::stod(metrics.substr(at + series.size() + 1));
  };
  EXPECT_NE(metrics.find(R"(switchyard_requests_total{model="gpt-4o-mini",status_class="2xx",tier="",upstream="mock"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(switchyard_tokens_total{model="gpt-4o-mini",type="completion",upstream="mock"} 5)"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(value(R"(switchyard_tenant_cost_usd_total{tenant="acme"})"),
                   static_cast<double>(ActualNano(kChat, 5)) / 1e9);
  EXPECT_NE(metrics.find(R"(switchyard_budget_limit_usd{tenant="acme"} 10)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(switchyard_budget_remaining_usd{tenant="acme"} 9.99)"), std::string::npos);
  EXPECT_NE(metrics.find("switchyard_ledger_rows_total 1"), std::string::npos);
  EXPECT_NE(metrics.find(R"(switchyard_upstream_up{upstream="mock"} 1)"), std::string::npos);
  EXPECT_NE(metrics.find("switchyard_overhead_seconds_count 1"), std::string::npos);
  EXPECT_NE(metrics.find(R"(switchyard_time_to_first_token_seconds_count{upstream="mock"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(switchyard_model_fixed_cost_usd_per_hour{model="llama3.2-3b",upstream="mock"} 0.8)"),
            std::string::npos);
  EXPECT_EQ(metrics.find(kClientKeyA), std::string::npos);
}

}  // namespace
}  // namespace switchyard::testing
