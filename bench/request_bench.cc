// Micro-benchmark of the request path's body work (proxy/openai/request.h): ParseRequest (one
// simdjson on-demand pass over the fields routing needs) and SpliceModel (the model value
// replaced by views, no re-serialization), on a small chat body and a ~32k-token one, not
// streaming and streaming (the splice also inserts stream_options.include_usage).
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "proxy/openai/request.h"

namespace {

using namespace switchyard::openai;

constexpr std::string_view kProse =
    "The committee reviewed the quarterly report and asked why the shipping costs rose by 14% "
    "while volumes fell; explain the likely causes, compare them with last year's figures, and "
    "suggest three concrete steps that could reduce costs without hurting delivery times. ";

// A chat request whose user message is about `tokens` tokens (4 bytes per token); 0: the
// small request the side-by-side benchmark sends.
std::string MakeBody(int64_t tokens, bool stream) {
  std::string user =
      "Summarize in two sentences why connection pooling lowers the latency of an HTTP reverse "
      "proxy.";
  while (static_cast<int64_t>(user.size()) < tokens * 4) user += kProse;
  return fmt::format(
      R"({{"model":"auto","messages":[{{"role":"system","content":"You are a helpful )"
      R"(assistant that answers briefly."}},{{"role":"user","content":"{}"}}],)"
      R"("temperature":0.2,"max_tokens":256{}}})",
      user, stream ? R"(,"stream":true)" : "");
}

// state.range(0): prompt tokens (0: small); state.range(1): 1 = streaming.
void BM_ParseAndSplice(benchmark::State& state) {
  const bool stream = state.range(1) != 0;
  std::string body = MakeBody(state.range(0), stream);
  ReservePadding(body);
  constexpr std::string_view kQuoted = R"("gpt-4o-mini")";
  for (auto _ : state) {
    auto parsed = ParseRequest(body);
    if (!parsed) {
      state.SkipWithError("ParseRequest failed");
      break;
    }
    SplicedBody spliced = SpliceModel(body, *parsed, kQuoted, stream);
    benchmark::DoNotOptimize(spliced.parts);
    benchmark::DoNotOptimize(spliced.size());
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseAndSplice)
    ->ArgNames({"tokens", "stream"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({32000, 0})
    ->Args({32000, 1})
    ->Unit(benchmark::kMicrosecond);

void BM_SpliceOnly(benchmark::State& state) {
  std::string body = MakeBody(state.range(0), true);
  ReservePadding(body);
  auto parsed = ParseRequest(body);
  if (!parsed) {
    state.SkipWithError("ParseRequest failed");
    return;
  }
  for (auto _ : state) {
    SplicedBody spliced = SpliceModel(body, *parsed, R"("gpt-4o-mini")", true);
    benchmark::DoNotOptimize(spliced.parts);
  }
}
BENCHMARK(BM_SpliceOnly)->Arg(0)->Arg(32000);

}  // namespace

BENCHMARK_MAIN();
