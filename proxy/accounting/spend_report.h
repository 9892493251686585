// Spend report formatting shared by `switchyard spend` and GET /v1/spend, so both show the
// same figures: an aligned text table and a JSON object, amounts as exact decimal USD computed
// from integer nano-USD. Also the parsers for the group-by and since arguments.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/accounting/ledger.h"

namespace switchyard::accounting {

// "key", "tenant", "model", "upstream", "day".
const char* GroupByName(SpendGroupBy by);
// The inverse of GroupByName; false for anything else.
bool ParseGroupBy(std::string_view text, SpendGroupBy* by);

// A report's start as Unix epoch milliseconds (UTC). Accepts "" (everything: 0),
// "2026-11-01" (midnight UTC), "2026-11-01T12:00:00Z", and a span back from now_ms:
// "30m", "24h", "7d" (clamped at 0). Returns false, leaving *since_ms alone, otherwise.
bool ParseSince(std::string_view text, std::int64_t now_ms, std::int64_t* since_ms);

// "2026-11-01T12:00:00Z"; milliseconds only when not zero: "2026-11-01T12:00:00.250Z".
std::string IsoUtc(std::int64_t time_ms);

// One line per group in the given order, then a TOTAL line; an empty group shows "(none)".
std::string SpendTable(const std::vector<SpendLine>& lines, SpendGroupBy by);
// {"object":"spend","group_by":"model","since":"<IsoUtc>","data":[{"group":...,
// "requests":..., "prompt_tokens":..., "cached_tokens":..., "completion_tokens":...,
// "reasoning_tokens":..., "cost_usd":"0.001234500", "baseline_cost_usd":"...",
// "savings_usd":"..."}, ...], "total":{the same without "group"}}. Savings is baseline - cost.
std::string SpendJson(const std::vector<SpendLine>& lines, SpendGroupBy by, std::int64_t since_ms);

}  // namespace switchyard::accounting
