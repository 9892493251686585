// Parsers for the config's scalar values: base URLs, durations, sizes, ${VAR} interpolation.
// Pure functions, safe from any thread. On failure each returns {} or nullopt and sets
// *error (if not null); messages never repeat the input, which may hold an environment value.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace switchyard::config {

// Returns a variable's value, or nullopt if it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// "https://host[:port][/prefix]": http or https, IPv6 in brackets, no user info, query or
// fragment. The port defaults to 80/443; a trailing slash on the prefix is dropped.
Url ParseBaseUrl(std::string_view text, std::string* error);

// "250ms", "5s", "2m", "1h", or a bare number of seconds. Zero is allowed here.
std::optional<Duration> ParseDuration(std::string_view text, std::string* error = nullptr);

// "8388608" (bytes), "512KiB", "8MiB", "1GiB" (also "B"). Zero is allowed here.
std::optional<std::size_t> ParseSize(std::string_view text, std::string* error = nullptr);

// Replaces each ${NAME} with env(NAME); "$${" is a literal "${". An unset variable, an
// unterminated "${" or a bad name is an error naming the variable, never its value.
// Single pass: substituted values are not scanned again.
std::optional<std::string> Interpolate(std::string_view text, const EnvLookup& env,
                                       std::string* error = nullptr);

// [A-Za-z_][A-Za-z0-9_]*
bool IsEnvVarName(std::string_view name);

// An IPv4 or IPv6 literal (no brackets).
bool IsIpLiteral(std::string_view text);

}  // namespace switchyard::config
