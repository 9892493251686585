#include "proxy/demo.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "bench/mock_upstream.h"
#include "config/config_loader.h"
#include "proxy/runtime.h"
#include "proxy/server.h"

namespace switchyard {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// ---- The simulated upstreams: the ports reach the config through ${VARS}. ----

struct Simulated {
  const char* port_variable;
  const char* what;
  int latency_ms;  // request -> response headers (time to first token, roughly)
  int gap_ms;      // between streamed tokens
};

constexpr Simulated kSimulated[] = {
    {"DEMO_EDGE_PORT", "edge", 15, 5},
    {"DEMO_SELF_HOSTED_PORT", "self-hosted", 40, 8},
    {"DEMO_CLOUD_MID_PORT", "cloud mid tier", 250, 10},
    {"DEMO_CLOUD_FRONTIER_PORT", "cloud frontier", 600, 20},
};

// ---- The built-in workload. ----

struct WorkItem {
  const char* kind;
  bool stream;
  int completion_tokens;  // what the mock generates (x-mock-tokens)
  std::string fields;     // the body after "model" (and "stream"), without braces
};

std::string LongTranscript() {
  std::string s;
  for (int i = 0; i < 60; ++i)
    s += "Speaker A: We reviewed the migration timeline and agreed the database cut-over moves to "
         "the second week. Speaker B: The vendor contract renews in May; legal wants a summary of "
         "the liability clauses before then. ";
  return s;
}

// Ordered so that any prefix mixes kinds (the test runs a short one).
std::vector<WorkItem> Workload() {
  auto user = [](const char* text) {
    return fmt::format(R"("messages":[{{"role":"user","content":"{}"}}])", text);
  };
  return {
      {"greeting", true, 20, user("Hi! How are you today?")},
      {"code", false, 400,
       user(
           R"(Implement a lock-free multi-producer multi-consumer bounded queue in C++20 using std::atomic. Explain the memory ordering of every load and store, prove it is linearizable, and show how you avoid the ABA problem.\n\n```cpp\ntemplate <typename T> class Queue;\n```)")},
      {"extraction", false, 30,
       user("Extract the city and temperature from: It is 21 degrees in Lisbon.") +
           R"(,"response_format":{"type":"json_schema","json_schema":{"name":"weather","schema":{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}}}}})"},
      {"summary", false, 40,
       user("Summarize in one sentence: The city council met on Tuesday to discuss the new bike "
            "lanes. After two hours of debate, members voted 7-2 to fund a pilot on Main Street, "
            "starting in the spring.")},
      {"code", true, 80, user("Write a Python function that reverses a string.")},
      {"math", false, 250,
       user("Prove that the square root of 2 is irrational. Show every step of the proof.")},
      {"multi-turn", false, 300,
       R"("messages":[{"role":"system","content":"You are a helpful travel assistant."},{"role":"user","content":"I'm planning a trip to Japan in April."},{"role":"assistant","content":"Great choice! April is cherry blossom season. How long will you stay?"},{"role":"user","content":"Ten days. I like food and hiking."},{"role":"assistant","content":"Consider Tokyo, Kyoto and a hike on the Kumano Kodo."},{"role":"user","content":"Compare the trade-offs of a JR Pass versus individual tickets for that itinerary, step by step, and why one is cheaper."}])"},
      {"code", true, 60,
       user(
           R"(Find the bug in this Python code and fix it:\n```python\ndef mean(xs):\n    return sum(xs) / len(xs) if xs else None\nprint(mean([]) + 1)\n```)")},
      {"tool call", false, 20,
       user("What is the weather in Paris?") +
           R"(,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}])"},
      {"summary", false, 200,
       R"("max_tokens":1024,"messages":[{"role":"system","content":"You summarize meeting transcripts into action items."},{"role":"user","content":"Summarize this transcript as a list of action items with owners:\n\n)" +
           LongTranscript() + R"("}])"},
      {"greeting", false, 15, user("Good morning! Thanks for the help yesterday.")},
      {"math", false, 300,
       user("Let G be a group of order 15. Prove G is cyclic using the Sylow theorems: n_3 divides "
            "5 and n_3 = 1 mod 3, n_5 divides 3 and n_5 = 1 mod 5.")},
      {"code", false, 120,
       user(
           R"(Write a SQL query that returns the top 3 customers by revenue per region:\n```sql\nSELECT region, customer, SUM(amount) FROM orders GROUP BY region, customer;\n```)")},
      {"extraction", false, 20,
       user("Pull out every email address in this text: Contact anna@example.com or "
            "sales@example.org for details.")},
      {"multi-turn", true, 40,
       R"("messages":[{"role":"user","content":"Can you recommend a book?"},{"role":"assistant","content":"Sure, what genres do you like?"},{"role":"user","content":"Sci-fi, thanks!"}])"},
      {"code", false, 250,
       user(
           R"(Refactor this Rust code to avoid the borrow checker error and explain why it fails:\n```rust\nfn main() { let mut v = vec![1,2,3]; let first = &v[0]; v.push(4); println!(\"{}\", first); }\n```)")},
      {"extraction", false, 5,
       user("Classify the sentiment of this review as positive or negative: 'The battery died "
            "after two days.'")},
      {"math", false, 5, user("What is 17 + 25?")},
      {"code", true, 100, user(R"(Write a C++ function that computes the n-th Fibonacci number in O(log n) using matrix exponentiation:\n```cpp\nuint64_t fib(uint64_t n);\n```)")},
      {"reasoning", false, 600,
       user("Design a rate limiter for a distributed API gateway handling 1M requests/s: compare "
            "token bucket, sliding window log and GCRA, give the Redis data structures and Lua "
            "scripts, and analyze the failure modes under network partitions.")},
      {"greeting", false, 10, user("Hello there, what's your name?")},
      {"summary", false, 60,
       user("Give me a TL;DR of this: Our Q3 revenue grew 12% year over year, driven by "
            "subscriptions, while hardware sales fell 4%. Operating costs were flat.")},
      {"math", false, 200,
       user(
           "A train leaves at 3 pm going 60 km/h; another leaves at 4 pm going 80 km/h on the same "
           "track. When does the second catch up? Solve step by step and prove your answer.")},
      {"extraction", false, 10, user("Translate 'good night' into Spanish.")},
  };
}

std::string RequestBody(const WorkItem& item) {
  return fmt::format(R"({{"model":"auto",{}{}}})",
                     item.stream ? R"("stream":true,"stream_options":{"include_usage":true},)" : "",
                     item.fields);
}

// ---- The client: blocking Beast, one keep-alive connection per thread. ----

struct Usage {
  std::int64_t prompt = 0, completion = 0, cached = 0;
};

struct Outcome {
  std::size_t item = 0;
  std::string error;  // empty: succeeded
  std::string model;
  double score = 0;
  Usage usage;
  double ms = 0;
};

bool ReadUsage(std::string_view json, Usage* out) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc)) return false;
  simdjson::dom::object usage;
  if (doc["usage"].get_object().get(usage)) return false;
  if (usage["prompt_tokens"].get_int64().get(out->prompt)) return false;
  if (usage["completion_tokens"].get_int64().get(out->completion)) return false;
  if (usage.at_pointer("/prompt_tokens_details/cached_tokens").get_int64().get(out->cached))
    out->cached = 0;
  return true;
}

// The usage chunk of an SSE body (stream_options.include_usage); false if none or no [DONE].
bool ReadStreamUsage(std::string_view body, Usage* out) {
  bool found = false, done = false;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.substr(0, 6) != "data: ") continue;
    line.remove_prefix(6);
    if (line == "[DONE]")
      done = true;
    else if (line.find(R"("usage":{)") != std::string_view::npos && ReadUsage(line, out))
      found = true;
  }
  return found && done;
}

class Client {
 public:
  explicit Client(uint16_t port) : endpoint_(asio::ip::make_address("127.0.0.1"), port) {}

  Outcome Send(std::size_t index, const WorkItem& item) {
    Outcome o;
    o.item = index;
    const auto start = Clock::now();
    o.error = Exchange(item, &o);
    o.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!o.error.empty()) stream_.reset();  // start over on a fresh connection
    return o;
  }

  void Close() {
    if (!stream_) return;
    beast::error_code ec;
    stream_->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_->close();
    stream_.reset();
  }

 private:
  std::string Exchange(const WorkItem& item, Outcome* o) {
    beast::error_code ec;
    if (!stream_) {
      stream_.emplace(io_);
      buffer_.clear();
      stream_->expires_after(std::chrono::seconds(5));
      stream_->connect(endpoint_, ec);
      if (ec) return "connect: " + ec.message();
    }
    http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.set("x-mock-tokens", std::to_string(item.completion_tokens));
    req.keep_alive(true);
    req.body() = RequestBody(item);
    req.prepare_payload();
    stream_->expires_after(std::chrono::seconds(60));
    http::write(*stream_, req, ec);
    if (ec) return "write: " + ec.message();
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    http::read(*stream_, buffer_, parser, ec);
    if (ec) return "read: " + ec.message();
    const auto& res = parser.get();
    if (!res.keep_alive()) Close();
    if (res.result_int() != 200)
      return fmt::format("HTTP {}: {}", res.result_int(), res.body().substr(0, 200));
    o->model = std::string(res["x-switchyard-model"]);
    if (o->model.empty()) return "no x-switchyard-model header";
    o->score = std::atof(std::string(res["x-switchyard-score"]).c_str());
    const bool ok =
        item.stream ? ReadStreamUsage(res.body(), &o->usage) : ReadUsage(res.body(), &o->usage);
    if (!ok)
      return item.stream ? "stream without a usage chunk or [DONE]" : "response without usage";
    return "";
  }

  asio::io_context io_;
  asio::ip::tcp::endpoint endpoint_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

std::vector<Outcome> RunWorkload(uint16_t port, const std::vector<WorkItem>& items, int requests,
                                 int concurrency) {
  std::vector<Outcome> outcomes(static_cast<std::size_t>(requests));
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, concurrency); ++t) {
    threads.emplace_back([&] {
      Client client(port);
      for (int i; (i = next.fetch_add(1)) < requests;)
        outcomes[i] = client.Send(i % items.size(), items[i % items.size()]);
      client.Close();
    });
  }
  for (auto& t : threads) t.join();
  return outcomes;
}

// ---- The report. ----

std::string WordWrap(std::string_view text, std::size_t width) {
  std::string out, line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(pos, end - pos);
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
    pos = end + 1;
  }
  return out + line + "\n";
}

double CostUsd(const config::Prices& p, const Usage& u) {
  const std::int64_t cached = std::min(u.cached, u.prompt);
  return ((u.prompt - cached) * p.input + cached * p.cached_input + u.completion * p.output) / 1e6;
}

double Percentile(std::vector<double> v, double q) {  // nearest rank
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(q * v.size()));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

DemoReport BuildReport(const config::Config& cfg, const std::vector<WorkItem>& items,
                       const std::vector<Outcome>& outcomes) {
  DemoReport r;
  r.requests = static_cast<int>(outcomes.size());
  const config::Model* reference = nullptr;
  for (const auto& m : cfg.models) {
    if (m.tier <= 0) continue;
    r.models.push_back({m.name, std::string(config::ModelKindName(m.kind)), m.tier});
    if (!reference || m.tier > reference->tier ||
        (m.tier == reference->tier && m.prices.output > reference->prices.output))
      reference = &m;
  }
  if (reference) r.reference_model = reference->name;
  std::map<std::string, std::vector<double>> model_ms;
  std::vector<double> all_ms;
  std::map<std::string, double> score_sum;
  for (const Outcome& o : outcomes) {
    const WorkItem& item = items[o.item];
    if (!o.error.empty()) {
      r.failures.push_back(
          fmt::format("request {} ({}): {}", &o - outcomes.data(), item.kind, o.error));
      continue;
    }
    ++r.succeeded;
    r.streamed += item.stream;
    all_ms.push_back(o.ms);
    auto row = std::find_if(r.models.begin(), r.models.end(),
                            [&](const DemoModelRow& m) { return m.model == o.model; });
    const config::Model* model = cfg.FindModel(o.model);
    if (row == r.models.end() || !model) {
      r.failures.push_back(
          fmt::format("request {}: routed to unknown model {}", &o - outcomes.data(), o.model));
      --r.succeeded;
      continue;
    }
    ++row->requests;
    row->prompt_tokens += o.usage.prompt;
    row->completion_tokens += o.usage.completion;
    const double cost = CostUsd(model->prices, o.usage);
    row->spend_usd += cost;
    r.spend_usd += cost;
    if (reference) r.reference_spend_usd += CostUsd(reference->prices, o.usage);
    model_ms[o.model].push_back(o.ms);

    auto w = std::find_if(r.workloads.begin(), r.workloads.end(),
                          [&](const DemoWorkloadRow& x) { return x.kind == item.kind; });
    if (w == r.workloads.end()) {
      r.workloads.emplace_back();
      w = r.workloads.end() - 1;
      w->kind = item.kind;
    }
    ++w->requests;
    score_sum[item.kind] += o.score;
    auto m = std::find_if(w->models.begin(), w->models.end(),
                          [&](const auto& p) { return p.first == o.model; });
    if (m == w->models.end())
      w->models.emplace_back(o.model, 1);
    else
      ++m->second;
  }
  for (auto& row : r.models) row.p50_ms = Percentile(model_ms[row.model], 0.5);
  for (auto& w : r.workloads) {
    w.mean_score = score_sum[w.kind] / w.requests;
    std::sort(w.models.begin(), w.models.end(), [&](const auto& a, const auto& b) {
      return cfg.FindModel(a.first) < cfg.FindModel(b.first);  // config order
    });
  }
  r.p50_ms = Percentile(all_ms, 0.5);
  r.p99_ms = Percentile(all_ms, 0.99);
  if (r.reference_spend_usd > 0)
    r.savings_percent = 100.0 * (1.0 - r.spend_usd / r.reference_spend_usd);
  return r;
}

config::Config LoadDemoConfig(const std::string& path,
                              const std::map<std::string, std::string>& ports) {
  config::EnvLookup process = config::ProcessEnv();
  config::EnvLookup env = [&](const std::string& name) -> std::optional<std::string> {
    if (auto it = ports.find(name); it != ports.end()) return it->second;
    return process(name);
  };
  return config::LoadConfigFile(path, env);
}

void PrintHints(std::FILE* out, uint16_t port) {
  const std::string base = fmt::format("http://127.0.0.1:{}", port);
  fmt::print(
      out,
      "\nThe proxy keeps serving on {0}/v1 (the simulated upstreams too); Ctrl-C stops it.\n"
      "Try it:\n"
      "  curl -si {0}/v1/chat/completions -H 'content-type: application/json' \\\n"
      "    -d '{{\"model\":\"auto\",\"messages\":[{{\"role\":\"user\",\"content\":\"Hello!\"}}]}}'"
      "   # see x-switchyard-*\n"
      "  curl -s {0}/v1/route/explain -H 'content-type: application/json' \\\n"
      "    -d '{{\"model\":\"auto\",\"messages\":[{{\"role\":\"user\",\"content\":\"Fix "
      "this:\\n```cpp\\n"
      "int* p; *p = 1;\\n```\"}}]}}'\n"
      "  curl -sN {0}/v1/chat/completions -H 'content-type: application/json' \\\n"
      "    -d "
      "'{{\"model\":\"auto\",\"stream\":true,\"messages\":[{{\"role\":\"user\",\"content\":\"Hi\"}}"
      "]}}'\n"
      "  curl -s {0}/v1/models;  curl -s {0}/metrics | grep switchyard_\n"
      "Python (pip install openai):\n"
      "  from openai import OpenAI\n"
      "  client = OpenAI(base_url=\"{0}/v1\", api_key=\"unused\")\n"
      "  r = client.chat.completions.with_raw_response.create(model=\"auto\",\n"
      "      messages=[{{\"role\": \"user\", \"content\": \"Hello!\"}}])\n"
      "  print(r.headers[\"x-switchyard-model\"], r.parse().usage)\n",
      base);
  std::fflush(out);
}

int RunDemoCommand(const DemoOptions& options) {
  const std::string path =
      options.config_path.empty() ? DefaultDemoConfigPath() : options.config_path;
  try {
    DemoReport report = RunDemo(options);
    return report.failures.empty() ? 0 : 1;
  } catch (const config::ConfigError& e) {
    fmt::print(stderr, "{}: {} problem{}:\n", path, e.problems().size(),
               e.problems().size() == 1 ? "" : "s");
    for (const auto& p : e.problems()) fmt::print(stderr, "  {}\n", p);
    return 2;
  } catch (const boost::system::system_error& e) {  // the listener's bind, in practice
    fmt::print(stderr, "switchyard demo: cannot listen on 127.0.0.1:{}: {} (try --port 0)\n",
               options.port, e.code().message());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "switchyard demo: {}\n", e.what());
    return 1;
  }
}

}  // namespace

// The example in the source tree (set by proxy/CMakeLists.txt), so the demo runs straight
// after the build.
std::string DefaultDemoConfigPath() { return SWITCHYARD_DEMO_CONFIG; }

DemoReport RunDemo(const DemoOptions& options) {
  const std::string path =
      options.config_path.empty() ? DefaultDemoConfigPath() : options.config_path;
  std::vector<std::unique_ptr<mock::MockUpstream>> mocks;
  std::map<std::string, std::string> ports;
  for (const Simulated& s : kSimulated) {
    mock::MockOptions mo;
    mo.latency = std::chrono::milliseconds(s.latency_ms);
    mo.gap = std::chrono::milliseconds(s.gap_ms);
    mo.max_recorded = 0;
    mocks.push_back(std::make_unique<mock::MockUpstream>(mo));
    mocks.back()->Start();
    ports[s.port_variable] = std::to_string(mocks.back()->port());
  }
  config::Config cfg = LoadDemoConfig(path, ports);
  cfg.listener.port = static_cast<uint16_t>(options.port);
  auto runtime = Runtime::Build(std::move(cfg));
  ServerOptions server_options;
  server_options.threads = 2;
  server_options.access_log_fd = -1;
  Server server(runtime, server_options);

  DemoReport report;
  std::exception_ptr failure;
  std::FILE* out = options.out;
  server.Run([&] {
    try {
      if (out) {
        fmt::print(
            out, "switchyard demo: the proxy on http://127.0.0.1:{} with {}\nsimulated upstreams:",
            server.port(), path);
        for (std::size_t i = 0; i < mocks.size(); ++i)
          fmt::print(out, "{} {} on :{}", i ? "," : "", kSimulated[i].what, mocks[i]->port());
        fmt::print(out, "\nsending {} requests through model \"auto\", {} at a time...\n\n",
                   options.requests, options.concurrency);
        std::fflush(out);
      }
      const std::vector<WorkItem> items = Workload();
      const auto start = Clock::now();
      std::vector<Outcome> outcomes =
          RunWorkload(server.port(), items, options.requests, options.concurrency);
      report = BuildReport(runtime->config(), items, outcomes);
      report.wall_seconds = std::chrono::duration<double>(Clock::now() - start).count();
      report.config_path = path;
      report.port = server.port();
      if (runtime->config().accounting.ledger != "off")
        report.ledger_path = runtime->config().accounting.ledger;
      if (out) fmt::print(out, "{}", FormatDemoReport(report));
      if (out && !options.once) PrintHints(out, server.port());
    } catch (...) {
      failure = std::current_exception();
    }
    if (options.once || failure) server.Shutdown();
  });
  if (failure) std::rethrow_exception(failure);
  if (out && !options.once) fmt::print(out, "switchyard demo stopped\n");
  return report;
}

std::string FormatDemoReport(const DemoReport& r) {
  std::string s;
  auto out = std::back_inserter(s);
  fmt::format_to(out, "{:<14} {:<12} {:>4} {:>8} {:>11} {:>11} {:>13} {:>8}\n", "model", "kind",
                 "tier", "requests", "prompt tok", "compl. tok", "spend USD", "p50 ms");
  std::int64_t prompt = 0, completion = 0;
  for (const auto& m : r.models) {
    fmt::format_to(out, "{:<14} {:<12} {:>4} {:>8} {:>11} {:>11} {:>13.6f} {:>8.0f}\n", m.model,
                   m.kind, m.tier, m.requests, m.prompt_tokens, m.completion_tokens, m.spend_usd,
                   m.p50_ms);
    prompt += m.prompt_tokens;
    completion += m.completion_tokens;
  }
  fmt::format_to(out, "{:<14} {:<12} {:>4} {:>8} {:>11} {:>11} {:>13.6f}\n", "total (auto)", "", "",
                 r.succeeded, prompt, completion, r.spend_usd);
  fmt::format_to(out, "{:<14} {:<12} {:>4} {:>8} {:>11} {:>11} {:>13.6f}\n",
                 "all to " + r.reference_model, "(reference)", "", r.succeeded, prompt, completion,
                 r.reference_spend_usd);
  fmt::format_to(
      out,
      "\nsavings: {:.1f}% (${:.6f} instead of ${:.6f}: the same tokens priced at {})\n"
      "latency, end to end at the client: p50 {:.0f} ms, p99 {:.0f} ms; {} of {} requests ok "
      "({} streamed), {:.1f} s wall\n",
      r.savings_percent, r.spend_usd, r.reference_spend_usd, r.reference_model, r.p50_ms, r.p99_ms,
      r.succeeded, r.requests, r.streamed, r.wall_seconds);
  if (!r.ledger_path.empty())
    fmt::format_to(out, "ledger: {} (switchyard spend --db {} --by model)\n", r.ledger_path,
                   r.ledger_path);
  fmt::format_to(out, "\n{:<12} {:>8} {:>10}  routed to\n", "workload", "requests", "mean score");
  for (const auto& w : r.workloads) {
    fmt::format_to(out, "{:<12} {:>8} {:>10.2f} ", w.kind, w.requests, w.mean_score);
    for (std::size_t i = 0; i < w.models.size(); ++i)
      fmt::format_to(out, "{} {} x{}", i ? "," : "", w.models[i].first, w.models[i].second);
    fmt::format_to(out, "\n");
  }
  std::string note =
      "The upstreams are in-process mocks: the latencies are simulated (time to first token";
  for (std::size_t i = 0; i < std::size(kSimulated); ++i)
    note += fmt::format("{} {} {} ms", i ? "," : ":", kSimulated[i].what, kSimulated[i].latency_ms);
  note += fmt::format(
      "; then 5-20 ms per streamed token) and the token counts are the mocks' (prompt = request "
      "bytes / 4, completion = the words generated). The routing decisions (the committed "
      "classifier) and the prices ({}) are real.",
      r.config_path);
  s += "\n" + WordWrap(note, 100);
  for (const auto& f : r.failures) fmt::format_to(out, "FAILED {}\n", f);
  return s;
}

void AddDemoCommand(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* demo = app.add_subcommand(
      "demo",
      "Run the proxy in front of simulated upstreams, send a mixed workload through \"auto\" "
      "and report spend and savings");
  demo->add_option("-p,--port", o->port, "Proxy listen port on 127.0.0.1 (0 picks one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  demo->add_flag("--once", o->once, "Exit after the report instead of serving until Ctrl-C");
  demo->add_option("-n,--requests", o->requests, "Workload size")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  demo->add_option("--concurrency", o->concurrency, "Requests in flight at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  demo->add_option("-c,--config", o->config_path,
                   "Config (default: config/examples/demo.yaml of the source tree)");
  demo->callback([o] {
    if (int rc = RunDemoCommand(*o); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace switchyard
