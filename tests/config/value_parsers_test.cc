#include "config/value_parsers.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

namespace switchyard::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseBaseUrlTest, SplitsSchemeHostPortAndPathPrefix) {
  std::string error;
  Url url = ParseBaseUrl("https://api.openai.com:8443/v1", &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "api.openai.com");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path_prefix, "/v1");
  EXPECT_TRUE(url.tls());

  url = ParseBaseUrl("https://generativelanguage.googleapis.com/v1beta/openai/", &error);
  EXPECT_EQ(url.path_prefix, "/v1beta/openai");
}

TEST(ParseBaseUrlTest, AppliesTheSchemesDefaultPort) {
  std::string error;
  EXPECT_EQ(ParseBaseUrl("https://api.groq.com/openai/v1", &error).port, 443);
  Url url = ParseBaseUrl("HTTP://vllm.internal", &error);
  EXPECT_EQ(url.scheme, "http");
  EXPECT_EQ(url.port, 80);
  EXPECT_FALSE(url.tls());
  EXPECT_EQ(url.path_prefix, "");
  EXPECT_EQ(ParseBaseUrl("http://localhost/", &error).path_prefix, "");
}

TEST(ParseBaseUrlTest, AcceptsBracketedIpv6) {
  std::string error;
  Url url = ParseBaseUrl("http://[::1]:11434/v1", &error);
  EXPECT_EQ(error, "");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 11434);
  EXPECT_EQ(ParseBaseUrl("https://[2001:db8::7]", &error).port, 443);
  EXPECT_EQ(ParseBaseUrl("https://[2001:db8::7]", &error).host, "2001:db8::7");
}

TEST(ParseBaseUrlTest, RejectsMalformedUrlsWithAReason) {
  const std::map<std::string, std::string> cases = {
      {"api.openai.com/v1", "must start with http:// or https://"},
      {"ftp://host/v1", "must start with http:// or https://"},
      {"https:///v1", "must have a host"},
      {"https://:443/v1", "must have a host"},
      {"http://host:0", "port must be between 1 and 65535"},
      {"http://host:65536", "port must be between 1 and 65535"},
      {"http://host:", "port must be between 1 and 65535"},
      {"http://host:80a", "port must be between 1 and 65535"},
      {"http://host/v1?x=1", "must not have a query or fragment"},
      {"http://host/v1#top", "must not have a query or fragment"},
      {"http://user:pw@host/v1",
       "must not contain user info; use api_key_env or headers for "
       "credentials"},
      {"http://::1/v1", "must put an IPv6 address in brackets, e.g. http://[::1]:8000"},
      {"http://[::1/v1", "has an unterminated [IPv6] address"},
      {"http://[nothex]:80", "has an invalid IPv6 address"},
      {"http://[::1]x", "has unexpected characters after the [IPv6] address"},
      {"http://bad host/v1", "has an invalid host name"},
      {"http://host/v 1", "path must not contain spaces or control characters"},
  };
  for (const auto& [text, message] : cases) {
    std::string error;
    Url url = ParseBaseUrl(text, &error);
    EXPECT_EQ(error, message) << text;
    EXPECT_EQ(url.host, "") << text;
    EXPECT_EQ(error.find(text), std::string::npos) << "the input is never echoed";
  }
}

TEST(ParseDurationTest, AcceptsUnitsAndBareSeconds) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("5s"), seconds(5));
  EXPECT_EQ(ParseDuration("2m"), minutes(2));
  EXPECT_EQ(ParseDuration("1h"), hours(1));
  EXPECT_EQ(ParseDuration("30"), seconds(30));
  EXPECT_EQ(ParseDuration("10 s"), seconds(10));
  EXPECT_EQ(ParseDuration("0"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsMalformedAndOverflowingValues) {
  for (const char* text : {"", "s", "5x", "1.5s", "-5s", "5 sec", "5S", "99999999999999999999h",
                           "9999999999999999h"}) {
    std::string error;
    EXPECT_EQ(ParseDuration(text, &error), std::nullopt) << text;
    EXPECT_EQ(error, "must be a duration such as 250ms, 5s, 2m or 1h (a bare number is seconds)");
  }
}

// Durations end up added to steady_clock time points in nanoseconds, which overflow past about
// 292 years: 10,000,000 hours would have made every deadline lie in the past.
TEST(ParseDurationTest, RejectsDurationsLongerThanAYear) {
  EXPECT_EQ(ParseDuration("8760h"), hours(8760));
  for (const char* text : {"8761h", "10000000h", "31536000001ms"}) {
    std::string error;
    EXPECT_EQ(ParseDuration(text, &error), std::nullopt) << text;
    EXPECT_EQ(error, "must be at most a year (8760h)") << text;
  }
}

TEST(ParseSizeTest, AcceptsBytesAndBinarySuffixes) {
  EXPECT_EQ(ParseSize("8388608"), 8388608u);
  EXPECT_EQ(ParseSize("100B"), 100u);
  EXPECT_EQ(ParseSize("512KiB"), 512u * 1024);
  EXPECT_EQ(ParseSize("8MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(ParseSize("8 MiB"), 8u * 1024 * 1024);
  EXPECT_EQ(ParseSize("2GiB"), 2ull * 1024 * 1024 * 1024);
}

TEST(ParseSizeTest, RejectsUnknownSuffixesAndOverflow) {
  for (const char* text : {"", "MiB", "8MB", "8mib", "1.5MiB", "-1", "99999999999999GiB"}) {
    std::string error;
    EXPECT_EQ(ParseSize(text, &error), std::nullopt) << text;
    EXPECT_EQ(error, "must be a size such as 16384, 512KiB or 8MiB");
  }
}

class InterpolateTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> vars_ = {{"HOST", "vllm.internal"}, {"EMPTY", ""}};
  EnvLookup env_ = [this](const std::string& name) -> std::optional<std::string> {
    auto it = vars_.find(name);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  };
};

TEST_F(InterpolateTest, ReplacesEachVariable) {
  EXPECT_EQ(Interpolate("http://${HOST}:8000/${HOST}", env_),
            "http://vllm.internal:8000/vllm.internal");
  EXPECT_EQ(Interpolate("a${EMPTY}b", env_), "ab");
  EXPECT_EQ(Interpolate("no variables $HOST {HOST} $ }", env_), "no variables $HOST {HOST} $ }");
}

TEST_F(InterpolateTest, DoubleDollarBraceIsALiteral) {
  EXPECT_EQ(Interpolate("$${HOST}", env_), "${HOST}");
  EXPECT_EQ(Interpolate("$$${HOST}", env_), "$${HOST}") << "a lone $ is literal, then $${";
  EXPECT_EQ(Interpolate("$$x", env_), "$$x");
}

TEST_F(InterpolateTest, DoesNotExpandSubstitutedValues) {
  vars_["NESTED"] = "${HOST}";
  EXPECT_EQ(Interpolate("${NESTED}", env_), "${HOST}");
}

TEST_F(InterpolateTest, NamesEveryUnsetVariable) {
  std::string error;
  EXPECT_EQ(Interpolate("${HOST}${A}${B}${A}", env_, &error), std::nullopt);
  EXPECT_EQ(error, "environment variables A, B are not set");
  EXPECT_EQ(Interpolate("${MISSING}", env_, &error), std::nullopt);
  EXPECT_EQ(error, "environment variable MISSING is not set");
}

TEST_F(InterpolateTest, RejectsUnterminatedAndInvalidReferences) {
  std::string error;
  EXPECT_EQ(Interpolate("${HOST", env_, &error), std::nullopt);
  EXPECT_EQ(error, "has an unterminated ${ (write $${ for a literal ${)");
  EXPECT_EQ(Interpolate("${1X}", env_, &error), std::nullopt);
  EXPECT_EQ(error, "${1X} is not a valid environment variable name");
  EXPECT_EQ(Interpolate("${}", env_, &error), std::nullopt);
}

TEST(ParseTokenCountTest, AcceptsIntegersAndDecimalSuffixes) {
  EXPECT_EQ(ParseTokenCount("128000"), 128000);
  EXPECT_EQ(ParseTokenCount("128k"), 128000);
  EXPECT_EQ(ParseTokenCount("128K"), 128000);
  EXPECT_EQ(ParseTokenCount("1M"), 1000000);
  EXPECT_EQ(ParseTokenCount("0"), 0);
  std::string error;
  EXPECT_EQ(ParseTokenCount("1.5M", &error), std::nullopt);
  EXPECT_EQ(error, "must be a number of tokens such as 128000, 128k or 1M");
  EXPECT_EQ(ParseTokenCount("1m"), std::nullopt);
  EXPECT_EQ(ParseTokenCount("-5"), std::nullopt);
  EXPECT_EQ(ParseTokenCount(""), std::nullopt);
  EXPECT_EQ(ParseTokenCount("99999999999999999999"), std::nullopt);
}

TEST(ParseNumberTest, AcceptsFiniteDecimalsOnly) {
  EXPECT_EQ(ParseNumber("0.15"), 0.15);
  EXPECT_EQ(ParseNumber("3"), 3.0);
  EXPECT_EQ(ParseNumber("1e-3"), 0.001);
  EXPECT_EQ(ParseNumber("-2.5"), -2.5);
  std::string error;
  EXPECT_EQ(ParseNumber("inf", &error), std::nullopt);
  EXPECT_EQ(error, "must be a number such as 0.15");
  for (const char* bad : {"nan", ".inf", "1e999", "0x10", "+1", "1.5 ", "", "$1"})
    EXPECT_EQ(ParseNumber(bad), std::nullopt) << bad;
}

TEST(ParseModelKindTest, NamesRoundTrip) {
  for (ModelKind kind : {ModelKind::kCloud, ModelKind::kEdge, ModelKind::kSelfHosted})
    EXPECT_EQ(ParseModelKind(ModelKindName(kind)), kind);
  EXPECT_EQ(ModelKindName(ModelKind::kSelfHosted), "self-hosted");
  std::string error;
  EXPECT_EQ(ParseModelKind("self_hosted", &error), std::nullopt);
  EXPECT_EQ(error, "must be cloud, edge or self-hosted");
  EXPECT_EQ(ParseModelKind("Cloud"), std::nullopt);
}

TEST(ParseIntTest, ChecksTheRange) {
  std::string error;
  EXPECT_EQ(ParseInt("7", 1, 10), 7);
  EXPECT_EQ(ParseInt("11", 1, 10, &error), std::nullopt);
  EXPECT_EQ(error, "must be between 1 and 10");
  EXPECT_EQ(ParseInt("0", 1, std::numeric_limits<int>::max(), &error), std::nullopt);
  EXPECT_EQ(error, "must be at least 1");
  EXPECT_EQ(ParseInt("1x", 1, 10, &error), std::nullopt);
  EXPECT_EQ(error, "must be an integer");
  EXPECT_EQ(ParseInt("99999999999999999999", 0, 10, &error), std::nullopt);
  EXPECT_EQ(error, "must be between 0 and 10");
}

TEST(ParseBoolTest, AcceptsYamlSpellings) {
  for (const char* yes : {"true", "True", "yes", "ON"}) EXPECT_EQ(ParseBool(yes), true) << yes;
  for (const char* no : {"false", "No", "off"}) EXPECT_EQ(ParseBool(no), false) << no;
  std::string error;
  EXPECT_EQ(ParseBool("1", &error), std::nullopt);
  EXPECT_EQ(error, "must be true or false");
}

TEST(NameProblemTest, RejectsEmptyAndCharactersThatNeedEscaping) {
  EXPECT_EQ(NameProblem("gpt-4o-mini"), nullptr);
  EXPECT_EQ(NameProblem("llama3.2:3b"), nullptr);
  EXPECT_STREQ(NameProblem(""), "must not be empty");
  for (const char* bad : {"a\"b", "a\\b", "a\nb", "a\tb"}) EXPECT_NE(NameProblem(bad), nullptr);
}

}  // namespace
}  // namespace switchyard::config
