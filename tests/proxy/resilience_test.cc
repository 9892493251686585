// Upstream health on real sockets: circuit breakers (open, fail fast, probe, close), routing
// around open circuits, capacity spill-over and the explicit-model queue, and no second
// attempt for a request that may already be running on a model.
#include <atomic>
#include <map>
#include <future>
#include <thread>

#include "config/value_parsers.h"
#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

class ResilienceTest : public ProxyTest {
 protected:
  // A second live upstream ("other") beside the fixture's "mock" and "dead".
  void StartWithSecondUpstream(mock::MockOptions options,
                               const std::function<void(config::Config&)>& more) {
    other_ = std::make_unique<mock::MockUpstream>(options);
    other_->Start();
    const std::string url = fmt::format("http://127.0.0.1:{}/v1", other_->port());
    StartProxy("", "", "", [&](config::Config& c) {
      config::Upstream up = c.upstreams[0];
      up.name = "other";
      up.base_url = url;
      up.url = config::ParseBaseUrl(url, nullptr);
      c.upstreams.push_back(up);
      config::Model model = c.models[0];
      model.name = model.upstream_model = "other-model";
      model.upstream = "other";
      model.upstream_index = c.upstreams.size() - 1;
      c.models.push_back(model);
      if (more) more(c);
    });
  }
  // Two tier-1 models for "auto": the cheap one on `cheap_upstream`, "other-model" dearer.
  void RouteBetween(config::Config& c, const std::string& cheap) {
    FindModel(c, cheap).tier = 1;
    FindModel(c, cheap).prices = {0.1, 0.1, 0.1};
    FindModel(c, "other-model").tier = 1;
    FindModel(c, "other-model").prices = {1, 1, 1};
    config::Profile profile;
    profile.name = "auto";
    profile.thresholds = {};
    c.profiles = {profile};
  }
  double Metric(const std::string& series) {
    const std::string text = Get("/metrics").body;
    const std::size_t at = text.find(series + " ");
    return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 1));
  }
  std::unique_ptr<mock::MockUpstream> other_;
};

constexpr char kDead[] = R"({"model":"dead-model","messages":[]})";
constexpr char kAuto[] = R"({"model":"auto","messages":[{"role":"user","content":"Hi"}]})";

TEST_F(ResilienceTest, AnOpenCircuitFailsFastThenAProbeClosesIt) {
  StartProxy("", "", "", [](config::Config& c) {
    c.upstreams[0].circuit_breaker.failures = 3;
    c.upstreams[0].circuit_breaker.open_for = std::chrono::milliseconds(300);
  });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Post(kChat, {{"x-mock-status", "500"}}).status, 500u);
  const std::uint64_t served = mock_->requests_served();
  Reply refused = Post(kChat);
  ExpectOpenAiError(refused, 503, "upstream_unavailable");
  EXPECT_EQ(mock_->requests_served(), served) << "an open circuit sends nothing";
  EXPECT_NE(Get("/readyz").body.find(R"("mock":"down")"), std::string::npos);
  EXPECT_EQ(Metric(R"(switchyard_upstream_skipped_total{reason="circuit_open",upstream="mock"})"), 1);
  // After open_for one probe goes; its success closes the circuit.
  std::this_thread::sleep_for(350ms);
  EXPECT_NE(Get("/readyz").body.find(R"("mock":"probing")"), std::string::npos);
  EXPECT_EQ(Post(kChat).status, 200u);
  EXPECT_NE(Get("/readyz").body.find(R"("mock":"up")"), std::string::npos);
  EXPECT_EQ(Post(kChat).status, 200u);
}

TEST_F(ResilienceTest, AFailedProbeOpensTheCircuitAgain) {
  StartProxy("", "", "", [](config::Config& c) {
    c.upstreams[0].circuit_breaker.failures = 2;
    c.upstreams[0].circuit_breaker.open_for = std::chrono::milliseconds(200);
  });
  for (int i = 0; i < 2; ++i) Post(kChat, {{"x-mock-status", "503"}});
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(Post(kChat, {{"x-mock-status", "503"}}).status, 503u);  // the probe
  ExpectOpenAiError(Post(kChat), 503, "upstream_unavailable");      // open again
}

TEST_F(ResilienceTest, AnErrorRateOverTheWindowOpensTheCircuit) {
  StartProxy("", "", "", [](config::Config& c) {
    auto& breaker = c.upstreams[0].circuit_breaker;
    breaker.failures = 100;  // never in a row: every other request fails
    breaker.error_rate = 0.5;
    breaker.min_requests = 10;
  });
  for (int i = 0; i < 10; ++i)
    Post(kChat, i % 2 ? Headers{{"x-mock-status", "500"}} : Headers{});
  ExpectOpenAiError(Post(kChat), 503, "upstream_unavailable");
}

TEST_F(ResilienceTest, AutoRoutesAroundAnOpenCircuitWithoutTryingIt) {
  StartWithSecondUpstream({}, [&](config::Config& c) {
    RouteBetween(c, "dead-model");
    c.upstreams[1].circuit_breaker.failures = 2;  // "dead"
  });
  for (int i = 0; i < 4; ++i) {
    Reply r = Post(kAuto);
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("x-switchyard-model"), "other-model");
  }
  // Two attempts opened it; the later requests skipped it in routing.
  EXPECT_EQ(Metric(R"(switchyard_upstream_failures_total{kind="connect",upstream="dead"})"), 2);
  EXPECT_NE(Get("/readyz").body.find(R"("dead":"down")"), std::string::npos);
}

TEST_F(ResilienceTest, AutoSpillsOverToTheNextCandidateAtCapacity) {
  StartWithSecondUpstream({}, [&](config::Config& c) {
    RouteBetween(c, "gpt-4o-mini");
    c.upstreams[0].max_concurrent = 1;
  });
  // The first request holds the cheap upstream's only slot for 300 ms.
  auto first = std::async(std::launch::async, [&] { return Post(kAuto, {{"x-mock-latency-ms", "300"}}); });
  ASSERT_TRUE(Eventually([&] { return mock_->open_connections() == 1; }));
  Reply second = Post(kAuto);
  EXPECT_EQ(second.status, 200u);
  EXPECT_EQ(second.header("x-switchyard-model"), "other-model");
  EXPECT_EQ(first.get().header("x-switchyard-model"), "gpt-4o-mini");
  EXPECT_EQ(Metric(R"(switchyard_upstream_skipped_total{reason="at_capacity",upstream="mock"})"), 1);
}

TEST_F(ResilienceTest, AnExplicitModelWaitsInABoundedQueueThenGets503) {
  StartProxy("", "", "", [](config::Config& c) {
    c.upstreams[0].max_concurrent = 1;
    c.upstreams[0].max_queue = 1;
    c.upstreams[0].queue_timeout = std::chrono::milliseconds(1500);
  });
  const Headers slow{{"x-mock-latency-ms", "400"}};
  auto holder = std::async(std::launch::async, [&] { return Post(kChat, slow); });
  ASSERT_TRUE(Eventually([&] { return mock_->open_connections() == 1; }));
  auto waiter = std::async(std::launch::async, [&] { return Post(kChat); });  // queued
  std::this_thread::sleep_for(100ms);
  ExpectOpenAiError(Post(kChat), 503, "upstream_unavailable");  // the queue is full
  EXPECT_EQ(holder.get().status, 200u);
  EXPECT_EQ(waiter.get().status, 200u);  // took the slot when the first one ended
}

TEST_F(ResilienceTest, AQueuedRequestGivesUpAtTheQueueTimeout) {
  StartProxy("", "", "", [](config::Config& c) {
    c.upstreams[0].max_concurrent = 1;
    c.upstreams[0].queue_timeout = std::chrono::milliseconds(100);
  });
  auto holder = std::async(std::launch::async, [&] { return Post(kChat, {{"x-mock-latency-ms", "500"}}); });
  ASSERT_TRUE(Eventually([&] { return mock_->open_connections() == 1; }));
  const auto start = std::chrono::steady_clock::now();
  ExpectOpenAiError(Post(kChat), 503, "upstream_unavailable");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 450ms);
  EXPECT_EQ(holder.get().status, 200u);
}

TEST_F(ResilienceTest, NeverSendsARequestTwiceWhenTheModelMayAlreadyRunIt) {
  mock::MockOptions unused;
  StartWithSecondUpstream(unused, [&](config::Config& c) {
    RouteBetween(c, "gpt-4o-mini");
    c.upstreams[0].timeouts.first_byte = std::chrono::milliseconds(200);
  });
  // The cheap upstream got the request but does not answer in time: it may be running it.
  Reply r = Post(kAuto, {{"x-mock-latency-ms", "2000"}});
  ExpectOpenAiError(r, 504, "upstream_first_byte_timeout");
  EXPECT_EQ(other_->requests_served(), 0u);
}

TEST_F(ResilienceTest, RetriesAfterATimeoutWhenTheUpstreamSaysItIsSafe) {
  StartWithSecondUpstream({}, [&](config::Config& c) {
    RouteBetween(c, "gpt-4o-mini");
    c.upstreams[0].timeouts.first_byte = std::chrono::milliseconds(200);
    c.upstreams[0].retry_unanswered = true;
  });
  // x-mock-latency-ms reaches both mocks; the second answers within its own (default) timeout.
  Reply r = Post(kAuto, {{"x-mock-latency-ms", "400"}});
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.header("x-switchyard-model"), "other-model");
}

TEST_F(ResilienceTest, ActiveHealthChecksMarkADeadUpstreamDownWithoutTraffic) {
  StartProxy("", "", "", [](config::Config& c) {
    for (auto& u : c.upstreams) {
      u.health_check.interval = std::chrono::milliseconds(30);
      u.circuit_breaker.failures = 2;
    }
  });
  EXPECT_TRUE(Eventually([&] { return Get("/readyz").body.find(R"("dead":"down")") != std::string::npos; }));
  EXPECT_NE(Get("/readyz").body.find(R"("mock":"up")"), std::string::npos);
  // The checks went to the configured path on the live upstream, with its key.
  const auto recorded = mock_->recorded_requests();
  ASSERT_FALSE(recorded.empty());
  EXPECT_EQ(recorded[0].method, "GET");
  EXPECT_EQ(recorded[0].target, "/v1/models");
  EXPECT_EQ(mock_->requests_served(), recorded.size());
}

TEST_F(ResilienceTest, OneUpstreamOfThreeDeadEveryAutoRequestStillSucceeds) {
  StartWithSecondUpstream({}, [&](config::Config& c) {
    RouteBetween(c, "dead-model");  // the cheapest is on the dead upstream
    FindModel(c, "gpt-4o-mini").tier = 1;
    FindModel(c, "gpt-4o-mini").prices = {0.5, 0.5, 0.5};
  });
  std::vector<std::future<Reply>> replies;
  for (int i = 0; i < 30; ++i)
    replies.push_back(std::async(std::launch::async, [&] { return Post(kAuto); }));
  std::map<std::string, int> served_by;
  for (auto& r : replies) {
    Reply reply = r.get();
    ASSERT_EQ(reply.status, 200u) << reply.body;
    ++served_by[reply.header("x-switchyard-model")];
  }
  EXPECT_EQ(served_by["gpt-4o-mini"] + served_by["other-model"], 30);
  EXPECT_EQ(served_by["dead-model"], 0);
}

}  // namespace
}  // namespace switchyard::testing
