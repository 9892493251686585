// Loads and validates the YAML config file into a Config (config/config.h).
// Stateless free functions, safe to call from any thread. Validation collects every
// problem before throwing, and no message ever contains a value read from the environment
// (API keys, or anything interpolated with ${VAR}).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/value_parsers.h"  // EnvLookup, ParseBaseUrl, ParseDuration, ...

namespace switchyard::config {

// Every problem found, each as "path: message",
// e.g. "upstreams[2].base_url: must start with http:// or https://".
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  // One or more problems; what() joins them with newlines.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// The process environment (getenv).
EnvLookup ProcessEnv();

// Parses, interpolates, validates and resolves a config. Throws ConfigError.
Config LoadConfigString(std::string_view yaml, const EnvLookup& env = ProcessEnv());

// As LoadConfigString; an unreadable file is a problem too. Throws ConfigError.
Config LoadConfigFile(const std::string& path, const EnvLookup& env = ProcessEnv());

}  // namespace switchyard::config
