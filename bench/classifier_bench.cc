// Micro-benchmark of the classifier's request path: parse (simdjson on-demand) + features +
// score, for a ~500-token and a ~32k-token chat request. Reports the per-call p50 and p99 as
// counters (p50_us, p99_us) next to Google Benchmark's mean time.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "classifiers/chat_request.h"
#include "classifiers/model_io.h"

namespace {

using namespace switchyard::classifiers;

constexpr std::string_view kProse =
    "The committee reviewed the quarterly report and asked why the shipping costs rose by 14% "
    "while volumes fell; explain the likely causes, compare them with last year's figures, and "
    "suggest three concrete steps that could reduce costs without hurting delivery times. ";

// A chat request whose messages total about `tokens` estimated tokens (4 bytes per token).
std::string MakeRequest(int64_t tokens) {
  const int64_t bytes = tokens * 4;
  std::string user;
  while (static_cast<int64_t>(user.size()) < bytes - 260) user += kProse;
  std::string system = "You are a helpful assistant. Answer precisely and cite your sources.";
  std::string history = "Earlier answer: the costs are driven mostly by fuel and labour.";
  return fmt::format(
      R"({{"model":"auto","max_tokens":800,"messages":[{{"role":"system","content":"{}"}},)"
      R"({{"role":"user","content":"Summarise the report."}},{{"role":"assistant","content":"{}"}},)"
      R"({{"role":"user","content":"{}"}}]}})",
      system, history, user);
}

std::shared_ptr<const Model> LoadOrBlank() {
  std::shared_ptr<const Model> model;
  if (!LoadModel(DefaultModelPath(), &model).ok())
    model = std::make_shared<const Model>(ModelParams());
  return model;
}

void BM_ParseFeaturesScore(benchmark::State& state) {
  const std::string body = MakeRequest(state.range(0));
  std::string buffer = body;
  buffer.reserve(body.size() + 64);
  const auto model = LoadOrBlank();
  ChatRequest request;
  std::vector<double> micros;
  micros.reserve(1 << 16);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const Status status = ParseChatRequest(buffer.data(), body.size(), buffer.capacity(), &request);
    const ScoreResult result = model->Score(request);
    benchmark::DoNotOptimize(result.score);
    const auto end = std::chrono::steady_clock::now();
    if (!status.ok()) state.SkipWithError(status.message().c_str());
    if (micros.size() < micros.capacity())
      micros.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  std::sort(micros.begin(), micros.end());
  if (!micros.empty()) {
    state.counters["p50_us"] = micros[micros.size() / 2];
    state.counters["p99_us"] = micros[micros.size() * 99 / 100];
  }
  state.counters["request_bytes"] = static_cast<double>(body.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseFeaturesScore)->Arg(500)->Arg(32000)->Unit(benchmark::kMicrosecond);

void BM_ParseOnly(benchmark::State& state) {
  const std::string body = MakeRequest(state.range(0));
  std::string buffer = body;
  buffer.reserve(body.size() + 64);
  ChatRequest request;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        ParseChatRequest(buffer.data(), body.size(), buffer.capacity(), &request).ok());
  }
}
BENCHMARK(BM_ParseOnly)->Arg(500)->Arg(32000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
