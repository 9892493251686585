#include "proxy/accounting/usage.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>

#include "proxy/sse.h"

namespace switchyard::accounting {
namespace {

namespace ondemand = simdjson::ondemand;

ondemand::parser& ThreadParser() {
  thread_local ondemand::parser parser;
  return parser;
}

// A token count: a non-negative integer (or an integral float); anything else counts 0.
// A value not consumed here is skipped by the enclosing object's iteration.
std::int64_t ReadCount(ondemand::value value) {
  ondemand::json_type type;
  if (value.type().get(type) || type != ondemand::json_type::number) return 0;
  std::int64_t n = 0;
  if (!value.get_int64().get(n)) return n < 0 ? 0 : n;
  double d = 0;
  if (value.get_double().get(d)) return 0;
  // 2^63 as a double; larger values (and NaN) do not fit.
  if (!(d >= 0 && d < 9223372036854775808.0) || d != std::floor(d)) return 0;
  return static_cast<std::int64_t>(d);
}

// Reads `wanted` (a count) from `value` when it is an object; other fields are skipped.
// Returns false on a structural error.
bool ReadNestedCount(ondemand::value value, std::string_view wanted, std::int64_t& out) {
  ondemand::json_type type;
  if (value.type().get(type)) return false;
  if (type != ondemand::json_type::object) return true;  // null or odd type: leave 0
  ondemand::object object;
  if (value.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    ondemand::value v;
    if (field.value().get(v)) return false;
    if (key == wanted) out = ReadCount(v);
  }
  return true;
}

// Fills `usage` from a `usage` value; present only when it is an object.
bool ReadUsage(ondemand::value value, Usage& usage) {
  usage = Usage{};
  ondemand::json_type type;
  if (value.type().get(type)) return false;
  if (type != ondemand::json_type::object) return true;  // null: not present
  ondemand::object object;
  if (value.get_object().get(object)) return false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    ondemand::value v;
    if (field.value().get(v)) return false;
    if (key == "prompt_tokens") {
      usage.prompt_tokens = ReadCount(v);
    } else if (key == "completion_tokens") {
      usage.completion_tokens = ReadCount(v);
    } else if (key == "prompt_tokens_details") {
      if (!ReadNestedCount(v, "cached_tokens", usage.cached_tokens)) return false;
    } else if (key == "completion_tokens_details") {
      if (!ReadNestedCount(v, "reasoning_tokens", usage.reasoning_tokens)) return false;
    }
  }
  usage.present = true;
  return true;
}

// Scans a whole JSON document (data[0, size) readable up to `capacity`) for its top-level
// `usage` and whether `choices` is an empty array. Any error yields a default result.
StreamEventUsage ScanDocument(const char* data, std::size_t size, std::size_t capacity) {
  StreamEventUsage result;
  if (capacity < size + simdjson::SIMDJSON_PADDING) return {};
  ondemand::document doc;
  if (ThreadParser().iterate(data, size, capacity).get(doc)) return {};
  ondemand::object object;
  if (doc.get_object().get(object)) return {};
  bool choices_empty = false;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return {};
    ondemand::value value;
    if (field.value().get(value)) return {};
    if (key == "usage") {
      if (!ReadUsage(value, result.usage)) return {};
    } else if (key == "choices") {
      choices_empty = false;
      ondemand::json_type type;
      if (value.type().get(type)) return {};
      if (type == ondemand::json_type::array) {
        ondemand::array array;
        if (value.get_array().get(array)) return {};
        if (array.is_empty().get(choices_empty)) return {};
      }
    }
  }
  // Anything after the closing brace makes the document malformed.
  if (!doc.current_location().error()) return {};
  result.usage_only_chunk = choices_empty && result.usage.present;
  return result;
}

// The event's data field: the values of its "data" lines joined by "\n". False if none.
bool ExtractData(std::string_view event, std::string& out) {
  out.clear();
  bool any = false;
  while (!event.empty()) {
    std::size_t eol = event.find('\n');
    std::string_view line = event.substr(0, eol);
    event.remove_prefix(eol == std::string_view::npos ? event.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view value;
    if (line == "data") {
      value = {};
    } else if (line.starts_with("data:")) {
      value = line.substr(5);
      if (value.starts_with(' ')) value.remove_prefix(1);
    } else {
      continue;  // comments, event:, id:, retry:
    }
    if (any) out.push_back('\n');
    out.append(value);
    any = true;
  }
  return any;
}

}  // namespace

Usage ParseUsageFromBody(const std::string& body) {
  return ScanDocument(body.data(), body.size(), body.capacity()).usage;
}

StreamEventUsage InspectStreamEvent(std::string_view sse_event) {
  thread_local std::string buffer;
  if (!ExtractData(sse_event, buffer) || buffer == "[DONE]") return {};
  buffer.reserve(buffer.size() + simdjson::SIMDJSON_PADDING);
  return ScanDocument(buffer.data(), buffer.size(), buffer.capacity());
}

Usage ParseUsageFromEvent(std::string_view sse_event) {
  return InspectStreamEvent(sse_event).usage;
}

bool IsUsageOnlyChunk(std::string_view sse_event) {
  return InspectStreamEvent(sse_event).usage_only_chunk;
}

static int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The \uXXXX at json[i] (i at the 'u'), or -1.
static long Hex4(std::string_view json, std::size_t i) {
  if (i + 4 >= json.size()) return -1;
  long v = 0;
  for (std::size_t k = 1; k <= 4; ++k) {
    const int d = HexDigit(json[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Writes code point `cp` as UTF-8 into `out`; returns its length.
static std::size_t EncodeUtf8(unsigned long cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Unescapes the JSON string whose contents start at json[i] into `out` (until its closing
// quote or the end of `json`); returns the bytes that did not fit under `limit`.
static std::size_t AppendUnescaped(std::string_view json, std::size_t i, std::string* out,
                                   std::size_t limit) {
  std::size_t overflow = 0;
  auto emit = [&](std::string_view piece) {
    const std::size_t room = limit > out->size() ? limit - out->size() : 0;
    out->append(piece.substr(0, room));
    overflow += piece.size() > room ? piece.size() - room : 0;
  };
  char utf8[4];
  while (i < json.size() && json[i] != '"') {
    if (json[i] != '\\') {
      const std::size_t end = std::min(json.find_first_of("\"\\", i), json.size());
      emit(json.substr(i, end - i));
      i = end;
      continue;
    }
    if (i + 1 >= json.size()) break;
    const char e = json[i + 1];
    i += 2;
    if (e != 'u') {
      const char c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
                   : e == 'f' ? '\f' : e;  // \" \\ \/ stand for themselves
      emit({&c, 1});
      continue;
    }
    long cp = Hex4(json, i - 1);
    if (cp < 0) continue;
    i += 4;
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < json.size() && json[i] == '\\' && json[i + 1] == 'u') {
      const long low = Hex4(json, i + 1);
      if (low >= 0xDC00 && low < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 6;
      }
    }
    emit({utf8, EncodeUtf8(static_cast<unsigned long>(cp), utf8)});
  }
  return overflow;
}

// memmem: much faster than string_view::find here, whose scan for the first character stops
// at every '"' of the JSON.
static std::size_t Find(std::string_view haystack, std::string_view needle, std::size_t from) {
  if (from > haystack.size()) return std::string_view::npos;
  const void* at = ::memmem(haystack.data() + from, haystack.size() - from, needle.data(), needle.size());
  return at ? static_cast<std::size_t>(static_cast<const char*>(at) - haystack.data())
            : std::string_view::npos;
}

std::size_t AppendGeneratedText(std::string_view json, std::string* out, std::size_t limit) {
  std::size_t overflow = 0;
  for (std::string_view key : {std::string_view(R"("content":)"), std::string_view(R"("arguments":)"),
                               std::string_view(R"("reasoning_content":)")}) {
    for (std::size_t at = Find(json, key, 0); at != std::string_view::npos;
         at = Find(json, key, at + 1)) {
      std::size_t i = at + key.size();
      while (i < json.size() && (json[i] == ' ' || json[i] == '\t')) ++i;
      if (i >= json.size() || json[i] != '"') continue;  // null, an array of parts, ...
      overflow += AppendUnescaped(json, i + 1, out, limit);
    }
  }
  return overflow;
}

// Whether `text` has a "usage" key whose value is an object (not null): only such events
// are worth parsing.
static bool MayCarryUsage(std::string_view text) {
  for (std::size_t at = Find(text, R"("usage")", 0); at != std::string_view::npos;
       at = Find(text, R"("usage")", at + 1)) {
    std::size_t i = at + 7;
    while (i < text.size() && (text[i] == ' ' || text[i] == ':' || text[i] == '\t')) ++i;
    if (i < text.size() && text[i] == '{') return true;
  }
  return false;
}

std::string_view StreamEvents(std::string_view events, bool hide_usage, const StreamNotes& notes,
                              std::string& scratch) {
  static constexpr std::string_view kUsageNull = R"(,"usage":null)";
  *notes.overflow += AppendGeneratedText(events, notes.text, notes.text_limit);
  const bool usage_objects = MayCarryUsage(events);
  const bool usage_nulls = hide_usage && Find(events, kUsageNull, 0) != std::string_view::npos;
  if (!usage_objects && !usage_nulls) return events;
  scratch.clear();
  std::string_view rest = events;
  while (const std::size_t end = EndOfFirstEvent(rest)) {
    std::string_view raw = rest.substr(0, end);
    rest.remove_prefix(end);
    if (usage_objects && MayCarryUsage(raw)) {
      StreamEventUsage seen = InspectStreamEvent(raw);
      if (seen.usage.present) *notes.usage = seen.usage;
      if (hide_usage && seen.usage_only_chunk) continue;
    }
    if (!usage_nulls) {
      scratch.append(raw);
      continue;
    }
    for (std::size_t at; (at = Find(raw, kUsageNull, 0)) != std::string_view::npos;
         raw.remove_prefix(at + kUsageNull.size()))
      scratch.append(raw.substr(0, at));
    scratch.append(raw);
  }
  return scratch;
}

}  // namespace switchyard::accounting
