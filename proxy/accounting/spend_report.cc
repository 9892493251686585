#include "proxy/accounting/spend_report.h"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <iterator>
#include <limits>

#include "proxy/accounting/money.h"

namespace switchyard::accounting {
namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

// Saturating, so a corrupt or absurd ledger cannot make a total wrap to a small number.
std::int64_t Add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? kMax : kMin;
  return sum;
}

std::int64_t Savings(const SpendLine& line) {
  std::int64_t diff = 0;
  if (__builtin_sub_overflow(line.baseline_cost_nano_usd, line.cost_nano_usd, &diff))
    return line.cost_nano_usd < 0 ? kMax : kMin;
  return diff;
}

SpendLine Total(const std::vector<SpendLine>& lines) {
  SpendLine total;
  total.group = "TOTAL";
  for (const SpendLine& l : lines) {
    total.requests = Add(total.requests, l.requests);
    total.prompt_tokens = Add(total.prompt_tokens, l.prompt_tokens);
    total.cached_tokens = Add(total.cached_tokens, l.cached_tokens);
    total.completion_tokens = Add(total.completion_tokens, l.completion_tokens);
    total.reasoning_tokens = Add(total.reasoning_tokens, l.reasoning_tokens);
    total.cost_nano_usd = Add(total.cost_nano_usd, l.cost_nano_usd);
    total.baseline_cost_nano_usd = Add(total.baseline_cost_nano_usd, l.baseline_cost_nano_usd);
  }
  return total;
}

// Parses exactly `width` decimal digits at text[pos...].
bool Digits(std::string_view text, std::size_t pos, std::size_t width, int* value) {
  if (pos + width > text.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *value = v;
  return true;
}

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ".
bool ParseUtc(std::string_view text, std::int64_t* time_ms) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (text.size() != 10 && text.size() != 20) return false;
  if (!Digits(text, 0, 4, &y) || text[4] != '-' || !Digits(text, 5, 2, &mo) || text[7] != '-' ||
      !Digits(text, 8, 2, &d))
    return false;
  if (text.size() == 20 &&
      (text[10] != 'T' || !Digits(text, 11, 2, &h) || text[13] != ':' ||
       !Digits(text, 14, 2, &mi) || text[16] != ':' || !Digits(text, 17, 2, &s) ||
       text[19] != 'Z' || h > 23 || mi > 59 || s > 59))
    return false;
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return false;
  const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  *time_ms = ((days * 24 + h) * 60 + mi) * 60'000 + s * 1000;
  return true;
}

// The length of the valid UTF-8 sequence starting at text[i] (a byte >= 0x80), or 0.
std::size_t Utf8Length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // overlong
    if (lead == 0xED) hi = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;  // overlong
    if (lead == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = i + 2; k < i + n; ++k)
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  return n;
}

// A JSON string; invalid UTF-8 bytes become U+FFFD so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view text) {
  out->push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = Utf8Length(text, i);
      if (n == 0) {
        out->append("\\ufffd");
        ++i;
      } else {
        out->append(text.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

// The figures of one line, without its group: "requests":...,"savings_usd":"..."
void AppendJsonFigures(std::string* out, const SpendLine& l) {
  fmt::format_to(std::back_inserter(*out),
                 "\"requests\":{},\"prompt_tokens\":{},\"cached_tokens\":{},"
                 "\"completion_tokens\":{},\"reasoning_tokens\":{},\"cost_usd\":\"{}\","
                 "\"baseline_cost_usd\":\"{}\",\"savings_usd\":\"{}\"",
                 l.requests, l.prompt_tokens, l.cached_tokens, l.completion_tokens,
                 l.reasoning_tokens, FormatUsd(l.cost_nano_usd),
                 FormatUsd(l.baseline_cost_nano_usd), FormatUsd(Savings(l)));
}

constexpr std::size_t kColumns = 9;
using Cells = std::array<std::string, kColumns>;

// Columns in code points, which is right for the names configs use (no wide characters).
std::size_t Width(std::string_view text) {
  std::size_t width = 0;
  for (char c : text) width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return width;
}

// A group as one table cell: control characters would break the lines.
std::string Printable(std::string_view group) {
  if (group.empty()) return "(none)";
  std::string out(group);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

Cells TableCells(const SpendLine& l, std::string group) {
  return {std::move(group),
          std::to_string(l.requests),
          std::to_string(l.prompt_tokens),
          std::to_string(l.cached_tokens),
          std::to_string(l.completion_tokens),
          std::to_string(l.reasoning_tokens),
          FormatUsd(l.cost_nano_usd),
          FormatUsd(l.baseline_cost_nano_usd),
          FormatUsd(Savings(l))};
}

}  // namespace

const char* GroupByName(SpendGroupBy by) {
  switch (by) {
    case SpendGroupBy::kKey:
      return "key";
    case SpendGroupBy::kTenant:
      return "tenant";
    case SpendGroupBy::kModel:
      return "model";
    case SpendGroupBy::kUpstream:
      return "upstream";
    case SpendGroupBy::kDay:
      return "day";
  }
  return "model";
}

bool ParseGroupBy(std::string_view text, SpendGroupBy* by) {
  for (SpendGroupBy candidate : {SpendGroupBy::kKey, SpendGroupBy::kTenant, SpendGroupBy::kModel,
                                 SpendGroupBy::kUpstream, SpendGroupBy::kDay}) {
    if (text == GroupByName(candidate)) {
      *by = candidate;
      return true;
    }
  }
  return false;
}

bool ParseSince(std::string_view text, std::int64_t now_ms, std::int64_t* since_ms) {
  if (text.empty()) {
    *since_ms = 0;
    return true;
  }
  std::int64_t unit_ms = 0;
  switch (text.back()) {
    case 'm':
      unit_ms = 60'000;
      break;
    case 'h':
      unit_ms = 3'600'000;
      break;
    case 'd':
      unit_ms = 86'400'000;
      break;
    default:
      return ParseUtc(text, since_ms);
  }
  const std::string_view count = text.substr(0, text.size() - 1);
  if (count.empty() || count.size() > 9) return false;  // 9 digits of days cannot overflow
  int n = 0;
  if (!Digits(count, 0, count.size(), &n)) return false;
  *since_ms = std::max<std::int64_t>(0, now_ms - n * unit_ms);
  return true;
}

std::string IsoUtc(std::int64_t time_ms) {
  using std::chrono::milliseconds;
  const std::chrono::sys_time<milliseconds> t{milliseconds{time_ms}};
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  hms.hours().count(), hms.minutes().count(), hms.seconds().count());
  if (hms.subseconds().count() != 0) out += fmt::format(".{:03}", hms.subseconds().count());
  out.push_back('Z');
  return out;
}

std::string SpendTable(const std::vector<SpendLine>& lines, SpendGroupBy by) {
  std::string group_header = GroupByName(by);
  for (char& c : group_header) c = static_cast<char>(c - 'a' + 'A');
  std::vector<Cells> rows;
  rows.reserve(lines.size() + 2);
  rows.push_back({group_header, "REQUESTS", "PROMPT", "CACHED", "COMPLETION", "REASONING",
                  "COST_USD", "BASELINE_USD", "SAVINGS_USD"});
  for (const SpendLine& l : lines) rows.push_back(TableCells(l, Printable(l.group)));
  rows.push_back(TableCells(Total(lines), "TOTAL"));

  std::array<std::size_t, kColumns> widths{};
  for (const Cells& row : rows)
    for (std::size_t c = 0; c < kColumns; ++c) widths[c] = std::max(widths[c], Width(row[c]));
  std::string out;
  for (const Cells& row : rows) {
    // The group column is left-aligned, figures right-aligned; no trailing spaces.
    out.append(row[0]).append(widths[0] - Width(row[0]), ' ');
    for (std::size_t c = 1; c < kColumns; ++c)
      out.append(2 + widths[c] - row[c].size(), ' ').append(row[c]);
    out.push_back('\n');
  }
  return out;
}

std::string SpendJson(const std::vector<SpendLine>& lines, SpendGroupBy by, std::int64_t since_ms) {
  std::string out = fmt::format(R"({{"object":"spend","group_by":"{}","since":"{}","data":[)",
                                GroupByName(by), IsoUtc(since_ms));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.append(i == 0 ? "{\"group\":" : ",{\"group\":");
    AppendJsonString(&out, lines[i].group);
    out.push_back(',');
    AppendJsonFigures(&out, lines[i]);
    out.push_back('}');
  }
  out.append("],\"total\":{");
  AppendJsonFigures(&out, Total(lines));
  out.append("}}");
  return out;
}

}  // namespace switchyard::accounting
