// Routing: profiles pick the cheapest capable model, fall back in cost order, and explain
// themselves. Unit tests over a config built in code, then the whole path on real sockets.
#include "proxy/routing/router.h"
#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

using config::ModelKind;

config::Model TieredModel(std::string name, int tier, double input, double output,
                          ModelKind kind = ModelKind::kCloud) {
  config::Model m;
  m.name = m.upstream_model = std::move(name);
  m.upstream = "up";
  m.tier = tier;
  m.kind = kind;
  m.prices = {input, input, output};
  m.supports = {true, true, true, true};
  return m;
}

config::Profile NamedProfile(std::string name) {
  config::Profile p;
  p.name = std::move(name);
  return p;
}

class RouterTest : public ::testing::Test {
 protected:
  void Build() {
    config::Upstream up;
    up.name = "up";
    up.url = {"http", "127.0.0.1", 1, "/v1"};
    config_.upstreams = {up};
    if (config_.profiles.empty()) config_.profiles = {profile_};
    runtime_ = Runtime::Build(config_);
  }
  routing::Decision Decide(double score, const routing::RequestTraits& traits = {}, int min_tier = 0) {
    const config::Profile& profile = runtime_->config().profiles[0];
    return routing::Decide(*runtime_, profile, profile.thresholds, score, min_tier, traits, {});
  }
  static std::vector<std::string> Names(const routing::Decision& d) {
    std::vector<std::string> out;
    for (const auto* m : d.chosen) out.push_back(m->config->name);
    return out;
  }

  config::Config config_;
  config::Profile profile_ = NamedProfile("auto");
  std::shared_ptr<const Runtime> runtime_;
};

TEST_F(RouterTest, RequiredTierCountsTheThresholdsReached) {
  EXPECT_EQ(routing::RequiredTier(0.1, {0.45, 0.75}), 1);
  EXPECT_EQ(routing::RequiredTier(0.45, {0.45, 0.75}), 2);
  EXPECT_EQ(routing::RequiredTier(0.9, {0.45, 0.75}), 3);
  EXPECT_EQ(routing::RequiredTier(0.9, {}), 1);
}

TEST_F(RouterTest, PicksTheCheapestModelAtOrAboveTheRequiredTier) {
  config_.models = {TieredModel("big", 3, 2.5, 10), TieredModel("small", 1, 0.05, 0.08),
                    TieredModel("mid", 2, 0.15, 0.6), TieredModel("mid-pricey", 2, 1, 4)};
  Build();
  EXPECT_EQ(Names(Decide(0.1)), (std::vector<std::string>{"small", "mid", "mid-pricey"}));
  EXPECT_EQ(Names(Decide(0.5)), (std::vector<std::string>{"mid", "mid-pricey", "big"}));
  EXPECT_EQ(Names(Decide(0.8)), (std::vector<std::string>{"big"}));
}

TEST_F(RouterTest, AMinimumTierFromTheClientRaisesTheRequirement) {
  config_.models = {TieredModel("small", 1, 0, 0), TieredModel("big", 3, 2.5, 10)};
  Build();
  EXPECT_EQ(Names(Decide(0.1, {}, 3)), (std::vector<std::string>{"big"}));
}

TEST_F(RouterTest, DropsModelsLackingAFeatureOrContextTheRequestNeeds) {
  config::Model no_tools = TieredModel("no-tools", 1, 0, 0);
  no_tools.supports.tools = false;
  config::Model tiny = TieredModel("tiny-context", 1, 0.01, 0.01);
  tiny.context_window = 1000;
  config_.models = {no_tools, tiny, TieredModel("general", 1, 1, 1)};
  Build();
  routing::RequestTraits traits;
  traits.tools = true;
  traits.estimated_prompt_tokens = 2000;
  routing::Decision d = Decide(0.1, traits);
  EXPECT_EQ(Names(d), (std::vector<std::string>{"general"}));
  for (const auto& v : d.verdicts) {
    if (v.model->config->name == "no-tools") {
      EXPECT_STREQ(v.dropped, "no tool support");
    } else if (v.model->config->name == "tiny-context") {
      EXPECT_STREQ(v.dropped, "context window too small");
    }
  }
}

TEST_F(RouterTest, AProfileMayRestrictKinds) {
  profile_.kinds = {ModelKind::kEdge, ModelKind::kSelfHosted};
  profile_.thresholds = {};
  config_.models = {TieredModel("cloud", 1, 0, 0), TieredModel("edge", 1, 0.1, 0.1, ModelKind::kEdge)};
  Build();
  EXPECT_EQ(Names(Decide(0.9)), (std::vector<std::string>{"edge"}));
}

TEST_F(RouterTest, ExpectedCostUsesPromptTokensAndCappedOutputTokens) {
  config::Model m = TieredModel("m", 1, 2.0, 10.0);
  config::Profile p = NamedProfile("auto");
  p.expected_output_tokens = 500;
  routing::RequestTraits traits;
  traits.estimated_prompt_tokens = 1000;
  EXPECT_DOUBLE_EQ(routing::ExpectedCostUsd(m, p, traits), (1000 * 2.0 + 500 * 10.0) / 1e6);
  traits.max_tokens = 100;
  EXPECT_DOUBLE_EQ(routing::ExpectedCostUsd(m, p, traits), (1000 * 2.0 + 100 * 10.0) / 1e6);
}

TEST_F(RouterTest, StopsAtTheProfilesMaximumAttempts) {
  profile_.max_attempts = 2;
  config_.models = {TieredModel("a", 1, 1, 1), TieredModel("b", 1, 2, 2), TieredModel("c", 1, 3, 3)};
  Build();
  EXPECT_EQ(Names(Decide(0.1)), (std::vector<std::string>{"a", "b"}));
}

TEST(CalibratorTest, KeepsTheStartingThresholdsUntilEnoughTrafficWasSeen) {
  routing::Calibrator c({0.5, 0.3, 0.2}, {0.5, 0.8});
  for (std::size_t i = 0; i + 1 < routing::Calibrator::kMinSamples; ++i) c.Observe(0.01);
  EXPECT_EQ(c.thresholds(), (std::vector<double>{0.5, 0.8}));
}

TEST(CalibratorTest, SplitsRecentScoresIntoTheTargetShares) {
  routing::Calibrator c({0.5, 0.3, 0.2}, {0.5, 0.8});
  // Live traffic scores low (0.00 .. 0.20): fixed thresholds would send all of it to tier 1.
  for (int i = 0; i < 4096; ++i) c.Observe(0.2 * (i % 1000) / 1000.0);
  ASSERT_EQ(c.thresholds().size(), 2u);
  EXPECT_NEAR(c.thresholds()[0], 0.10, 0.005);
  EXPECT_NEAR(c.thresholds()[1], 0.16, 0.005);
  int tiers[4] = {};
  for (int i = 0; i < 1000; ++i) ++tiers[routing::RequiredTier(0.2 * i / 1000.0, c.thresholds())];
  EXPECT_NEAR(tiers[1], 500, 25);  // the window repeats some scores once more than others
  EXPECT_NEAR(tiers[2], 300, 25);
  EXPECT_NEAR(tiers[3], 200, 25);
}

TEST(CalibratorTest, FollowsAShiftInTraffic) {
  routing::Calibrator c({0.5, 0.5}, {0.5});
  for (int i = 0; i < 4096; ++i) c.Observe(0.1 + 0.0001 * (i % 100));
  EXPECT_LT(c.thresholds()[0], 0.2);
  for (int i = 0; i < 4096; ++i) c.Observe(0.9 + 0.0001 * (i % 100));
  EXPECT_GT(c.thresholds()[0], 0.8);
}

// The whole path: "auto" on real sockets, a dead cheap model first in cost order.
class AutoRouteTest : public ProxyTest {
 protected:
  void StartRouted(int max_attempts = 3) {
    StartProxy("", "", "", [max_attempts](config::Config& c) {
      auto find = [&](const std::string& name) -> config::Model& {
        return *std::find_if(c.models.begin(), c.models.end(),
                             [&](const config::Model& m) { return m.name == name; });
      };
      config::Model& dead = find("dead-model");  // cheapest, but its upstream is down
      dead.tier = 1;
      dead.prices = {0, 0, 0};
      dead.supports.tools = true;
      config::Model& small = find("llama3.2-3b");
      small.tier = 1;
      small.kind = ModelKind::kEdge;
      small.prices = {0.01, 0.01, 0.02};
      config::Model& mid = find("gpt-4o-mini");
      mid.tier = 3;
      mid.prices = {0.15, 0.075, 0.6};
      mid.supports.tools = true;
      config::Profile profile = NamedProfile("auto");
      profile.max_attempts = max_attempts;
      profile.thresholds = {0.999};  // short prompts need tier 1 whatever the model scores
      c.profiles = {profile};
    });
  }
};

constexpr char kAutoChat[] = R"({"model":"auto","messages":[{"role":"user","content":"Hi there!"}]})";

TEST_F(AutoRouteTest, FallsBackInCostOrderWhenTheCheapestUpstreamIsDown) {
  StartRouted();
  Reply r = Post(kAutoChat);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "llama3.2-3b");
  EXPECT_EQ(r.header("x-switchyard-upstream"), "mock");
  EXPECT_EQ(r.header("x-switchyard-tier"), "1");
  EXPECT_FALSE(r.header("x-switchyard-score").empty());
  EXPECT_EQ(mock_->recorded_requests().at(0).body.find(R"("model":"llama3.2:3b")"), 1u);
}

TEST_F(AutoRouteTest, FallsBackWhenAnUpstreamAnswers5xxBeforeAnythingWasSent) {
  StartRouted();
  // The mock answers 503 to every request of this test: both live candidates are tried and
  // the last one's error reaches the client.
  Reply r = Post(kAutoChat, {{"x-mock-status", "503"}});
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(mock_->requests_served(), 2u);
}

TEST_F(AutoRouteTest, AMinimumTierHeaderSkipsSmallerModels) {
  StartRouted();
  Reply r = Post(kAutoChat, {{"x-switchyard-min-tier", "3"}});
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("x-switchyard-model"), "gpt-4o-mini");
  ExpectOpenAiError(Post(kAutoChat, {{"x-switchyard-min-tier", "x"}}), 400, "invalid_header");
}

TEST_F(AutoRouteTest, ToolsGoOnlyToModelsThatSupportThem) {
  StartRouted();
  Reply r = Post(R"({"model":"auto","messages":[{"role":"user","content":"Weather?"}],
    "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]})");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "gpt-4o-mini");  // llama3.2-3b has no tools here
}

TEST_F(AutoRouteTest, StreamsThroughTheChosenModel) {
  StartRouted();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"auto","stream":true,"messages":[{"role":"user","content":"Hi"}]})");
  ASSERT_EQ(client.ReadHead(), 200u);
  EXPECT_EQ(std::string(client.stream_headers().at("x-switchyard-model")), "llama3.2-3b");
  EXPECT_NE(client.ReadToEnd().find("data: [DONE]"), std::string::npos);
}

TEST_F(AutoRouteTest, ExplainsTheDecisionWithoutCallingAnUpstream) {
  StartRouted();
  Reply r = Post(kAutoChat, {}, "/v1/route/explain");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find(R"("profile":"auto")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("choice":"dead-model")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("fallbacks":["llama3.2-3b","gpt-4o-mini"])"), std::string::npos) << r.body;
  EXPECT_EQ(mock_->requests_served(), 0u);
  ExpectOpenAiError(Post(R"({"model":"gpt-4o-mini","messages":[]})", {}, "/v1/route/explain"), 404,
                    "profile_not_found");
}

TEST_F(AutoRouteTest, ListsProfilesBesideTheModels) {
  StartRouted();
  EXPECT_NE(Get("/v1/models").body.find(R"({"id":"auto","object":"model")"), std::string::npos);
  EXPECT_NE(Get("/v1/models/auto").body.find(R"("owned_by":"switchyard")"), std::string::npos);
}

TEST_F(AutoRouteTest, ExplicitModelsStillGoStraightToTheirUpstream) {
  StartRouted();
  ExpectOpenAiError(Post(R"({"model":"dead-model","messages":[]})"), 502, "upstream_connect");
}

}  // namespace
}  // namespace switchyard::testing
