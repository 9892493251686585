// Parsers and checks for the config's scalar values: base URLs, durations, sizes, token
// counts, prices, model kinds, names, header names, ${VAR} interpolation.
// Pure functions, safe from any thread. On failure each returns {} or nullopt and sets
// *error (if not null); messages never repeat the input, which may hold an environment value.
#pragma once

#include <cstddef>
#include <cstdint>
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

// A decimal integer in [min, max]. The error names the range, or only min when max is
// INT_MAX or more (no practical upper bound): "must be at least 1".
std::optional<std::int64_t> ParseInt(std::string_view text, std::int64_t min, std::int64_t max,
                                     std::string* error = nullptr);

// true/yes/on or false/no/off, in any case.
std::optional<bool> ParseBool(std::string_view text, std::string* error = nullptr);

// "128000", "128k" (x1,000) or "1M" (x1,000,000). Zero is allowed here.
std::optional<std::int64_t> ParseTokenCount(std::string_view text, std::string* error = nullptr);

// A finite decimal number: "0.15", "3", "1e-3". No "inf"/"nan", hex or leading "+".
std::optional<double> ParseNumber(std::string_view text, std::string* error = nullptr);

// "cloud", "edge" or "self-hosted".
std::optional<ModelKind> ParseModelKind(std::string_view text, std::string* error = nullptr);
std::string_view ModelKindName(ModelKind kind);

// Why a name (upstream, model, profile) is unusable, or nullptr if it is fine. Names are
// spliced into JSON, logs and metric labels verbatim, so they must need no escaping.
const char* NameProblem(std::string_view name);

// An RFC 9110 token: the characters allowed in a header name.
bool IsHeaderName(std::string_view name);

// Why a header may not be set in an upstream's `headers`, or nullptr if it may.
const char* ForbiddenHeaderReason(std::string_view name);

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
