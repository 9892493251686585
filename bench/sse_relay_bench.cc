// Micro-benchmark of the SSE relay's per-chunk work (proxy/relay.cc, RelayStream): what it
// does with each block of bytes one upstream read brings in: SseSplitter::Feed (whole events
// only), accounting::AppendGeneratedText (the text kept for estimating usage) and, for the
// chunk that carries usage, accounting::InspectStreamEvent. The chunks are the mock's (and
// OpenAI's) chat.completion.chunk events with "usage":null, as upstreams send them when the
// proxy asked for usage. One iteration relays one whole 100-token stream; items/s = events/s.
// The per-block work is accounting::StreamEvents, the function the relay calls.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/accounting/usage.h"
#include "proxy/sse.h"

namespace {

using namespace switchyard;

constexpr std::size_t kMaxGeneratedText = 64 * 1024;  // as proxy/relay.cc
constexpr int kTokens = 100;

constexpr std::string_view kPrefix =
    R"(data: {"id":"chatcmpl-8f3a2b1c9d7e4f60a1b2c3d4","object":"chat.completion.chunk",)"
    R"("created":1732262400,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_0ba0d124f1",)"
    R"("choices":[)";

std::string ContentEvent(int i) {
  return fmt::format(
      R"({}{{"index":0,"delta":{{"content":"word{} "}},"logprobs":null,"finish_reason":null}}],)"
      R"("usage":null}})"
      "\n\n",
      kPrefix, i);
}

std::string UsageEvent() {
  return fmt::format(R"({}],"usage":{{"prompt_tokens":57,"completion_tokens":{},"total_tokens":{},)"
                     R"("prompt_tokens_details":{{"cached_tokens":0}},)"
                     R"("completion_tokens_details":{{"reasoning_tokens":0}}}}}})"
                     "\n\n",
                     kPrefix, kTokens, kTokens + 57);
}

// One stream as an upstream sends it: role chunk, kTokens content chunks, finish chunk, usage
// chunk, [DONE]. Returned as separate events.
std::vector<std::string> UpstreamEvents() {
  std::vector<std::string> events;
  events.push_back(std::string(kPrefix) +
                   R"({"index":0,"delta":{"role":"assistant","content":"","refusal":null},)"
                   R"("logprobs":null,"finish_reason":null}],"usage":null})"
                   "\n\n");
  for (int i = 0; i < kTokens; ++i) events.push_back(ContentEvent(i));
  events.push_back(std::string(kPrefix) +
                   R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})"
                   "\n\n");
  events.push_back(UsageEvent());
  events.push_back("data: [DONE]\n\n");
  return events;
}

// The reads that bring a stream in: `events_per_read` whole events per read, or (0) reads
// of 1,400 bytes (about one TCP segment) that cut events anywhere.
std::vector<std::string> Reads(const std::vector<std::string>& events, int events_per_read) {
  std::vector<std::string> reads;
  if (events_per_read > 0) {
    for (std::size_t i = 0; i < events.size(); i += events_per_read) {
      std::string r;
      for (std::size_t j = i; j < events.size() && j < i + events_per_read; ++j) r += events[j];
      reads.push_back(std::move(r));
    }
    return reads;
  }
  std::string all;
  for (const auto& e : events) all += e;
  for (std::size_t at = 0; at < all.size(); at += 1400) reads.push_back(all.substr(at, 1400));
  return reads;
}

// state.range(0): events per read (0: 1,400-byte reads that cut events anywhere);
// state.range(1): 1 = the client did not ask for usage (usage hidden from it, as the
// side-by-side benchmark's streaming request), 0 = it did (events pass unchanged).
void BM_RelayStream(benchmark::State& state) {
  const auto events = UpstreamEvents();
  const auto reads = Reads(events, static_cast<int>(state.range(0)));
  const bool hide_usage = state.range(1) != 0;
  std::string generated, scratch;
  generated.reserve(kMaxGeneratedText);
  std::size_t bytes = 0;
  for (const auto& r : reads) bytes += r.size();
  std::size_t out_bytes = 0;
  for (auto _ : state) {
    SseSplitter sse;
    generated.clear();
    std::size_t overflow = 0;
    accounting::Usage usage;
    out_bytes = 0;
    for (const auto& read : reads) {
      std::string_view block = sse.Feed(read);
      if (block.empty()) continue;
      const accounting::StreamNotes notes{&usage, &generated, &overflow, kMaxGeneratedText};
      std::string_view out = accounting::StreamEvents(block, hide_usage, notes, scratch);
      out_bytes += out.size();
      benchmark::DoNotOptimize(out.data());
    }
    if (usage.completion_tokens != kTokens) state.SkipWithError("usage not found");
    benchmark::DoNotOptimize(overflow);
  }
  state.counters["reads"] = static_cast<double>(reads.size());
  state.counters["bytes_out"] = static_cast<double>(out_bytes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_RelayStream)
    ->ArgNames({"events_per_read", "hide_usage"})
    ->ArgsProduct({{1, 4, 16, 0}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

void BM_Feed(benchmark::State& state) {
  const std::string event = ContentEvent(7);
  SseSplitter sse;
  for (auto _ : state) benchmark::DoNotOptimize(sse.Feed(event));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * event.size()));
}
BENCHMARK(BM_Feed);

void BM_AppendGeneratedText(benchmark::State& state) {
  const std::string event = ContentEvent(7);
  std::string generated;
  generated.reserve(kMaxGeneratedText);
  for (auto _ : state) {
    if (generated.size() > kMaxGeneratedText / 2) generated.clear();
    benchmark::DoNotOptimize(accounting::AppendGeneratedText(event, &generated, kMaxGeneratedText));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * event.size()));
}
BENCHMARK(BM_AppendGeneratedText);

// state.range(0): 1 = the usage chunk, 0 = a content chunk with "usage":null.
void BM_InspectStreamEvent(benchmark::State& state) {
  std::string event = state.range(0) ? UsageEvent() : ContentEvent(7);
  while (!event.empty() && event.back() == '\n') event.pop_back();  // as ForEachEvent yields
  for (auto _ : state) {
    accounting::StreamEventUsage seen = accounting::InspectStreamEvent(event);
    benchmark::DoNotOptimize(seen);
  }
}
BENCHMARK(BM_InspectStreamEvent)->ArgName("usage_chunk")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
