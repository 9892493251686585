// Micro-benchmark of the request path's body work (proxy/openai/request.h): ParseRequest (one
// simdjson on-demand pass over the fields routing needs, the message count and the depth scan)
// and SpliceModel (the model value replaced by views, no re-serialization), on a small chat body
// and a ~32k-token one, not streaming and streaming (the splice also inserts
// stream_options.include_usage); and ParseRequest alone on an agent's body: many turns with tool
// calls, code with brackets and escapes in its strings, and tools with nested JSON schemas.
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

// An agent loop's request: `turns` rounds of user, assistant tool call and tool result (code
// full of brackets, quotes and \n escapes inside strings), and four tools whose parameters are
// JSON schemas nested ten object levels deep (OpenAI's structured-output limit).
std::string MakeAgentBody(int turns) {
  std::string schema = R"({"type":"string"})";
  for (int level = 0; level < 10; ++level)
    schema = fmt::format(
        R"({{"type":"object","properties":{{"name":{{"type":"string","description":"a name"}},)"
        R"("items":{{"type":"array","items":{}}}}},"required":["name","items"],)"
        R"("additionalProperties":false}})",
        schema);
  std::string tools;
  for (int t = 0; t < 4; ++t)
    tools += fmt::format(
        R"({}{{"type":"function","function":{{"name":"tool_{}","description":"Does thing {}.",)"
        R"("strict":true,"parameters":{}}}}})",
        t ? "," : "", t, t, schema);
  constexpr std::string_view kCode =
      R"(static int f(const std::vector<int>& v) {\n  int s = 0;\n  for (int x : v) { if (x > 0) )"
      R"({ s += v[x % v.size()]; } }\n  printf(\"%d [%s]\\n\", s, \"{ok}\");\n  return s;\n}\n)";
  std::string messages = R"({"role":"system","content":"You are a coding agent."})";
  for (int i = 0; i < turns; ++i)
    messages += fmt::format(
        R"(,{{"role":"user","content":"Fix the bug in step {} of the build."}})"
        R"(,{{"role":"assistant","content":null,"tool_calls":[{{"id":"call_{}","type":"function",)"
        R"("function":{{"name":"tool_{}","arguments":"{{\"name\":\"src/f{}.cc\",\"items\":[]}}"}}}}]}})"
        R"(,{{"role":"tool","tool_call_id":"call_{}","content":"{}{}"}})",
        i, i, i % 4, i, i, kCode, kCode);
  return fmt::format(R"({{"model":"auto","messages":[{}],"tools":[{}],"tool_choice":"auto"}})",
                     messages, tools);
}

// state.range(0): agent turns (three messages each).
void BM_ParseAgentBody(benchmark::State& state) {
  std::string body = MakeAgentBody(static_cast<int>(state.range(0)));
  ReservePadding(body);
  for (auto _ : state) {
    auto parsed = ParseRequest(body);
    if (!parsed) {
      state.SkipWithError("ParseRequest failed");
      break;
    }
    benchmark::DoNotOptimize(parsed->model_offset);
  }
  state.counters["body_bytes"] = static_cast<double>(body.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseAgentBody)->ArgName("turns")->Arg(8)->Arg(200)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
