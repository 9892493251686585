// `switchyard demo --once` end to end: the example config loads, the workload goes through
// `auto` on real sockets to the simulated upstreams, and the report adds up.
#include "proxy/demo.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "config/config_loader.h"

namespace switchyard::testing {
namespace {

class DemoTest : public ::testing::Test {
 protected:
  static DemoReport RunOnce(int requests) {
    DemoOptions options;
    options.port = 0;
    options.once = true;
    options.requests = requests;
    options.concurrency = 4;
    options.out = nullptr;
    return RunDemo(options);
  }
};

TEST_F(DemoTest, TheDefaultConfigIsTheExampleInTheSourceTree) {
  EXPECT_TRUE(std::filesystem::exists(DefaultDemoConfigPath())) << DefaultDemoConfigPath();
  EXPECT_EQ(std::filesystem::path(DefaultDemoConfigPath()).filename(), "demo.yaml");
}

TEST_F(DemoTest, RoutesAMixedWorkloadAcrossModelsAndSavesAgainstTheStrongest) {
  const DemoReport r = RunOnce(16);
  EXPECT_EQ(r.requests, 16);
  EXPECT_EQ(r.succeeded, 16);
  EXPECT_TRUE(r.failures.empty()) << r.failures.front();
  EXPECT_GT(r.streamed, 0);

  const auto used = std::count_if(r.models.begin(), r.models.end(),
                                  [](const DemoModelRow& m) { return m.requests > 0; });
  EXPECT_GT(used, 1) << FormatDemoReport(r);
  int routed = 0;
  for (const auto& m : r.models) {
    routed += m.requests;
    if (m.requests > 0) {
      EXPECT_GT(m.prompt_tokens, 0) << m.model;
    }
  }
  EXPECT_EQ(routed, 16);

  EXPECT_EQ(r.reference_model, "gpt-4o");
  EXPECT_GT(r.spend_usd, 0);
  EXPECT_GT(r.reference_spend_usd, r.spend_usd);
  EXPECT_GT(r.savings_percent, 0);
  EXPECT_LT(r.savings_percent, 100);
  EXPECT_GT(r.p50_ms, 0);
  EXPECT_GE(r.p99_ms, r.p50_ms);

  const std::string text = FormatDemoReport(r);
  EXPECT_NE(text.find("savings:"), std::string::npos) << text;
  EXPECT_NE(text.find("all to gpt-4o"), std::string::npos) << text;
  EXPECT_NE(text.find("ledger: switchyard-ledger.db (switchyard spend"), std::string::npos) << text;
}

TEST_F(DemoTest, ABrokenConfigIsAConfigErrorListingTheProblem) {
  const auto path = std::filesystem::temp_directory_path() / "switchyard_demo_test_bad.yaml";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "upstreams:\n  - name: edge\n    base_url: http://127.0.0.1:${DEMO_NO_SUCH_PORT}/v1\n", f);
    std::fclose(f);
  }
  DemoOptions options;
  options.port = 0;
  options.once = true;
  options.config_path = path.string();
  options.out = nullptr;
  EXPECT_THROW(RunDemo(options), config::ConfigError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace switchyard::testing
