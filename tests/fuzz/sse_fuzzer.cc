// Fuzzes the SSE splitter (proxy/sse.h) with the stream cut into arbitrary reads, and the
// usage readers (proxy/accounting/usage.h) on every event it yields. Input: one byte n, then
// n % 16 chunk sizes (cycled through; a 0 is an empty read), then the stream itself.
#include <simdjson.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/accounting/usage.h"
#include "proxy/sse.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace accounting = switchyard::accounting;

void CheckUsage(const accounting::Usage& usage) {
  FUZZ_CHECK(usage.prompt_tokens >= 0 && usage.cached_tokens >= 0);
  FUZZ_CHECK(usage.completion_tokens >= 0 && usage.reasoning_tokens >= 0);
  if (!usage.present) FUZZ_CHECK(usage == accounting::Usage{});
}

// AppendGeneratedText never grows `out` past `limit`.
void CheckGeneratedText(std::string_view json, std::size_t limit) {
  std::string out;
  accounting::AppendGeneratedText(json, &out, limit);
  FUZZ_CHECK(out.size() <= limit);
}

// An event without the blank lines that may lead it. Where a block's last event ends with
// "\n\n\n", ForEachEvent leaves the last "\n" unread, and the same line leads the next event
// when the stream is split there: only empty lines move, never data.
std::string_view WithoutLeadingBlankLines(std::string_view event) {
  for (;;) {
    if (event.starts_with('\n')) {
      event.remove_prefix(1);
    } else if (event.starts_with("\r\n")) {
      event.remove_prefix(2);
    } else {
      return event;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk_count = data[0] % 16;
  if (size < 1 + chunk_count) return 0;
  const std::uint8_t* chunks = data + 1;
  const std::string_view stream(reinterpret_cast<const char*>(data + 1 + chunk_count),
                                size - 1 - chunk_count);

  switchyard::SseSplitter splitter;
  std::string joined;
  std::vector<std::string> events;
  std::size_t at = 0, next = 0, zeros = 0;
  while (at < stream.size()) {
    std::size_t n = chunk_count == 0 ? stream.size() : chunks[next++ % chunk_count];
    if (n == 0 && ++zeros > chunk_count) n = 1;  // only zeros: one byte a read after a cycle
    if (n == 0) {
      FUZZ_CHECK(splitter.Feed({}).empty());
      continue;
    }
    zeros = 0;
    n = std::min(n, stream.size() - at);
    const std::string_view block = splitter.Feed(stream.substr(at, n));
    at += n;
    // A block is whole events: it ends with a blank line.
    if (!block.empty()) FUZZ_CHECK(switchyard::EndOfLastEvent(block) == block.size());
    joined.append(block);
    switchyard::SseSplitter::ForEachEvent(block, [&](std::string_view event) {
      if (!WithoutLeadingBlankLines(event).empty())
        events.emplace_back(WithoutLeadingBlankLines(event));
      const accounting::StreamEventUsage inspected = accounting::InspectStreamEvent(event);
      CheckUsage(inspected.usage);
      if (inspected.usage_only_chunk) FUZZ_CHECK(inspected.usage.present);
      FUZZ_CHECK(accounting::ParseUsageFromEvent(event) == inspected.usage);
      CheckGeneratedText(event, 64);
    });
  }
  // Nothing lost, duplicated or reordered; the partial event holds no complete one.
  joined.append(splitter.partial());
  FUZZ_CHECK(joined == stream);
  FUZZ_CHECK(switchyard::EndOfFirstEvent(splitter.partial()) == 0);
  // The events do not depend on how the stream was cut into reads.
  std::size_t whole = 0;
  switchyard::SseSplitter::ForEachEvent(
      stream.substr(0, switchyard::EndOfLastEvent(stream)), [&](std::string_view event) {
        event = WithoutLeadingBlankLines(event);
        if (event.empty()) return;
        FUZZ_CHECK(whole < events.size() && events[whole] == event);
        ++whole;
      });
  FUZZ_CHECK(whole == events.size());
  CheckGeneratedText(stream, 1 << 16);
  std::string body(stream);
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);  // ParseUsageFromBody reads past the end
  CheckUsage(accounting::ParseUsageFromBody(body));
  return 0;
}
