// Fuzzes the config loader (config/config_loader.h): any input either loads or throws
// ConfigError; any other exception escapes and is reported as a crash. The environment is
// fixed, and a ConfigError must never show a value read from it (config_loader.h promises so).
#include <optional>
#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// Marks every secret value; an input cannot spell it without writing it out itself.
constexpr std::string_view kSecretMark = "Zq9secret";

std::optional<std::string> FixedEnv(const std::string& name) {
  if (name.starts_with("UNSET")) return std::nullopt;
  if (name == "EMPTY") return "";
  if (name == "CONTROL") return "sk-Zq9secret-ctl\n";
  // Values that make the example configs load, so the fuzzer starts from valid ones.
  if (name.ends_with("_PORT")) return "8081";
  if (name.ends_with("_HOST")) return "127.0.0.1:8000";
  return "sk-fuzz-Zq9secret-" + name;  // distinct: key digests must differ
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    switchyard::config::LoadConfigString(yaml, FixedEnv);
  } catch (const switchyard::config::ConfigError& e) {
    FUZZ_CHECK(!e.problems().empty());
    if (yaml.find(kSecretMark) == std::string_view::npos)
      FUZZ_CHECK(std::string_view(e.what()).find(kSecretMark) == std::string_view::npos);
  }
  return 0;
}
