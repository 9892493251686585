// Micro-benchmark of the BPE tokenizer (proxy/accounting/tokenizer.h): Encode throughput
// (bytes_per_second, shown as MB/s) on English prose, source code and CJK/multilingual text
// for both encodings, and Count on a ~500-token and a ~32k-token text. Each encoding's
// one-time load is timed before the benchmarks and printed in the context header.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

#include "proxy/accounting/tokenizer.h"

namespace {

using switchyard::accounting::Encoding;
using switchyard::accounting::EncodingName;
using switchyard::accounting::Tokenizer;

constexpr std::string_view kProse =
    "The committee reviewed the quarterly report and asked why the shipping costs rose by 14% "
    "while volumes fell; explain the likely causes, compare them with last year's figures, and "
    "suggest three concrete steps that could reduce costs without hurting delivery times.\n\n"
    "She hadn't expected the meeting to run so long. By the time the last slide was shown, "
    "the coffee had gone cold and half the room was quietly answering e-mail. \"We'll revisit "
    "this on Thursday,\" the chair said, which everyone understood to mean never.\n";

constexpr std::string_view kCode =
    "template <typename Sink>\n"
    "void Tokenizer::EncodeTo(std::string_view text, Sink& sink) const {\n"
    "  const auto* s = reinterpret_cast<const unsigned char*>(text.data());\n"
    "  for (std::size_t pos = 0; pos < text.size();) {\n"
    "    if (auto id = Find(s + pos, 4); id != kNoRank) sink(id);  // fast path\n"
    "    pos += 4;\n"
    "  }\n"
    "}\n\n"
    "def load(path: str) -> dict[str, int]:\n"
    "    with open(path, encoding=\"utf-8\") as f:\n"
    "        return {k: int(v) for k, v in (line.split() for line in f)}\n\n"
    "SELECT user_id, SUM(cost_usd) AS spend FROM ledger WHERE ts >= '2024-01-01' "
    "GROUP BY user_id ORDER BY spend DESC LIMIT 10;\n";

constexpr std::string_view kMultilingual =
    "你今天遇到什么有趣的事情了吗？我们明天在图书馆见面，讨论项目的下一步计划。"
    "こんにちは、世界！お元気ですか？東京の天気は晴れのち曇りでしょう。"
    "안녕하세요, 세상! 오늘 기분이 어때요? 🇰🇷 "
    "Здравствуйте, это мой первый раз здесь. Что мне делать? "
    "مرحبا بالعالم، كيف حالك اليوم؟ "
    "नमस्ते दुनिया, आप कैसे हैं? "
    "Ελληνικά: Το πρόγραμμα αυτό είναι πολύ ενδιαφέρον. "
    "😊🎉👩‍💻🌍\n";

// About `bytes` bytes of `unit`, repeated.
std::string Repeat(std::string_view unit, std::size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += unit;
  return text;
}

void BM_Encode(benchmark::State& state, Encoding encoding, std::string_view unit) {
  const Tokenizer& tokenizer = Tokenizer::Get(encoding);
  const std::string text = Repeat(unit, 256 * 1024);
  std::size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tokenizer.Encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / tokens;
}
BENCHMARK_CAPTURE(BM_Encode, o200k_prose, Encoding::kO200kBase, kProse);
BENCHMARK_CAPTURE(BM_Encode, o200k_code, Encoding::kO200kBase, kCode);
BENCHMARK_CAPTURE(BM_Encode, o200k_multilingual, Encoding::kO200kBase, kMultilingual);
BENCHMARK_CAPTURE(BM_Encode, cl100k_prose, Encoding::kCl100kBase, kProse);
BENCHMARK_CAPTURE(BM_Encode, cl100k_code, Encoding::kCl100kBase, kCode);
BENCHMARK_CAPTURE(BM_Encode, cl100k_multilingual, Encoding::kCl100kBase, kMultilingual);

// Count on prose of about state.range(0) tokens, as the proxy does for a prompt or a reply.
void BM_Count(benchmark::State& state, Encoding encoding) {
  const Tokenizer& tokenizer = Tokenizer::Get(encoding);
  const auto want = static_cast<std::size_t>(state.range(0));
  std::string text;
  while (tokenizer.Count(text) < want) text += kProse;
  std::size_t lo = 0, hi = text.size();  // the shortest prefix of `want` tokens
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (tokenizer.Count(std::string_view(text).substr(0, mid)) < want) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  text.resize(lo);
  std::size_t count = 0;
  for (auto _ : state) benchmark::DoNotOptimize(count = tokenizer.Count(text));
  state.counters["tokens"] = static_cast<double>(count);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_Count, o200k, Encoding::kO200kBase)
    ->Arg(500)
    ->Arg(32000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Count, cl100k, Encoding::kCl100kBase)
    ->Arg(500)
    ->Arg(32000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  for (const Encoding encoding : {Encoding::kO200kBase, Encoding::kCl100kBase}) {
    const auto start = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(&Tokenizer::Get(encoding));
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    char value[32];
    std::snprintf(value, sizeof value, "%.1f ms", took.count());
    benchmark::AddCustomContext(std::string(EncodingName(encoding)) + "_load", value);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
