// The proxy end to end on real sockets (see proxy_fixture.h).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "proxy/sse.h"
#include "proxy/upstream/connection.h"
#include "tests/proxy/proxy_fixture.h"

namespace switchyard::testing {
namespace {

TEST_F(ProxyTest, ForwardsChatWithOnlyTheModelValueChanged) {
  StartProxy();
  const std::string body =
      R"({"messages":[{"role":"user","content":"Hi \"there\""}], "model" : "llama3.2-3b", "temperature":0.5})";
  Reply r = Post(body);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find(R"("object":"chat.completion")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("usage":)"), std::string::npos);
  auto seen = mock_->recorded_requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/v1/chat/completions");
  EXPECT_EQ(seen[0].body,
            R"({"messages":[{"role":"user","content":"Hi \"there\""}], "model" : "llama3.2:3b", "temperature":0.5})");
}

TEST_F(ProxyTest, ReplacesTheClientKeyWithTheUpstreamKeyAndKeepsTheRequestId) {
  StartProxy("    headers: { x-tenant: from-config }");
  Reply r = Post(kChat, {{"Authorization", "Bearer client-key"}, {"x-request-id", "trace-42"},
                         {"OpenAI-Beta", "assistants=v2"}, {"Cookie", "session=1"},
                         {"OpenAI-Organization", "org-other"}, {"X-Tenant", "from-client"}});
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.header("x-request-id"), "trace-42");
  auto seen = mock_->recorded_requests().at(0);
  EXPECT_EQ(seen.authorization, std::string("Bearer ") + kUpstreamKey);
  EXPECT_EQ(seen.headers["x-request-id"], "trace-42");
  EXPECT_EQ(seen.headers["openai-beta"], "assistants=v2");
  EXPECT_EQ(seen.headers.count("cookie"), 0u);
  EXPECT_EQ(seen.headers.count("openai-organization"), 0u);
  EXPECT_EQ(seen.headers["x-tenant"], "from-config");  // the config's copy only
  EXPECT_EQ(seen.headers["host"], fmt::format("127.0.0.1:{}", mock_->port()));
}

TEST_F(ProxyTest, DropsTheFieldsTheClientsConnectionHeaderNames) {
  StartProxy();
  Reply r = Post(kChat, {{"Connection", "keep-alive, X-Hop"}, {"X-Hop", "1"}, {"X-Kept", "2"}});
  ASSERT_EQ(r.status, 200u);
  auto seen = mock_->recorded_requests().at(0);
  EXPECT_EQ(seen.headers.count("x-hop"), 0u);  // for the client's hop to the proxy only
  EXPECT_EQ(seen.headers["x-kept"], "2");
}

TEST_F(ProxyTest, GeneratesARequestIdWhenTheClientSendsNone) {
  StartProxy();
  Reply r = Post(kChat);
  EXPECT_EQ(r.header("x-request-id").size(), 32u);
  EXPECT_EQ(mock_->recorded_requests().at(0).headers["x-request-id"], r.header("x-request-id"));
}

TEST_F(ProxyTest, RelaysEveryStreamEventInOrderEndingWithDone) {
  StartProxy();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
  ASSERT_EQ(client.ReadHead(), 200u);
  EXPECT_TRUE(client.stream_headers().at("content-type").starts_with("text/event-stream"));
  std::vector<std::string> events;
  SseSplitter::ForEachEvent(client.ReadToEnd(), [&](std::string_view e) { events.emplace_back(e); });
  EXPECT_TRUE(client.stream_complete());
  // role, 5 content, finish, usage, [DONE]
  ASSERT_EQ(events.size(), 9u);
  EXPECT_NE(events[0].find(R"("role":"assistant")"), std::string::npos);
  EXPECT_NE(events[6].find(R"("finish_reason":"stop")"), std::string::npos);
  EXPECT_NE(events[7].find(R"("choices":[],"usage":{)"), std::string::npos);
  EXPECT_EQ(events[8], "data: [DONE]");
}

TEST_F(ProxyTest, EachEventReachesTheClientBeforeTheNextOneIsProduced) {
  StartProxy();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"messages":[]})", {{"x-mock-gap-ms", "400"}});
  ASSERT_EQ(client.ReadHead(), 200u);
  // The mock waits 400 ms between events: a buffering proxy would deliver the role event
  // together with later ones. Each read must bring exactly one whole event.
  for (int i = 0; i < 3; ++i) {
    auto piece = client.ReadSome();
    ASSERT_TRUE(piece);
    int count = 0;
    SseSplitter::ForEachEvent(*piece, [&](std::string_view) { ++count; });
    EXPECT_EQ(count, 1) << *piece;
  }
}

TEST_F(ProxyTest, ReusesUpstreamConnectionsAcrossRequests) {
  StartProxy();
  TestClient client(port());
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.Post("/v1/chat/completions", kChat).status, 200u);
  EXPECT_EQ(mock_->requests_served(), 20u);
  EXPECT_LE(mock_->connections_accepted(), 2u);  // at most one per worker thread
}

TEST_F(ProxyTest, AnswersMalformedRequestsWith400InOpenAiShape) {
  StartProxy();
  ExpectOpenAiError(Post("{not json"), 400, "invalid_json");
  ExpectOpenAiError(Post(R"({"messages":[]})"), 400, "missing_required_parameter");
  ExpectOpenAiError(Post(R"({"model":["gpt-4o"]})"), 400, "invalid_type");
  EXPECT_EQ(mock_->requests_served(), 0u);
}

TEST_F(ProxyTest, AnswersUnknownModelsAndPathsWith404) {
  StartProxy();
  ExpectOpenAiError(Post(R"({"model":"gpt-9"})"), 404, "model_not_found");
  ExpectOpenAiError(Get("/v2/everything"), 404, "unknown_url");
  ExpectOpenAiError(Get("/v1/models/gpt-9"), 404, "model_not_found");
  ExpectOpenAiError(Get("/v1/chat/completions"), 405, "method_not_allowed");
}

TEST_F(ProxyTest, RefusesABodyOverTheLimitWith413) {
  StartProxy("", "  max_body_bytes: 1024");
  ExpectOpenAiError(Post(fmt::format(R"({{"model":"gpt-4o-mini","pad":"{}"}})", std::string(2000, 'x'))),
                    413, "request_too_large");
  EXPECT_EQ(Post(kChat).status, 200u);
}

TEST_F(ProxyTest, AClientStillSendingAnOversizedBodyReadsThe413) {
  StartProxy("", "  max_body_bytes: 64KiB");
  TestClient client(port());
  // No Expect header (as the OpenAI SDKs send it): the whole 16 MiB body is on its way when
  // the proxy refuses it, more than the socket buffers hold.
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              fmt::format(R"({{"model":"gpt-4o-mini","pad":"{}"}})", std::string(16 << 20, 'x')));
  ExpectOpenAiError(client.Receive(), 413, "request_too_large");
}

TEST_F(ProxyTest, AnswersExpectContinueBeforeTheBodyArrives) {
  StartProxy();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions", kChat,
              {{"Expect", "100-continue"}});
  EXPECT_EQ(client.Receive().status, 100u);
  EXPECT_EQ(client.Receive().status, 200u);
}

TEST_F(ProxyTest, ClosesAConnectionWhoseRequestNeverFinishesArriving) {
  StartProxy("", "  header_timeout: 300ms");
  TestClient client(port());
  client.WriteRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(client.Receive(), boost::system::system_error);  // closed, no response
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ProxyTest, AnswersAMalformedHttpRequestWith400AndCloses) {
  StartProxy();
  TestClient client(port());
  client.WriteRaw("POST /v1/chat/completions HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
  ExpectOpenAiError(client.Receive(), 400, "bad_http");
}

TEST_F(ProxyTest, AnswersAnUnreachableUpstreamWith502NamingIt) {
  StartProxy();
  Reply r = Post(R"({"model":"dead-model"})");
  ExpectOpenAiError(r, 502, "upstream_connect");
  EXPECT_NE(r.body.find("'dead'"), std::string::npos);
}

TEST_F(ProxyTest, AnswersASlowUpstreamWith504NamingTheTimeout) {
  StartProxy("    timeouts: { first_byte: 200ms }");
  Reply r = Post(kChat, {{"x-mock-latency-ms", "3000"}});
  ExpectOpenAiError(r, 504, "upstream_first_byte_timeout");
  EXPECT_NE(r.body.find("first_byte"), std::string::npos);
}

// An upstream that answers every request with the same bytes, then closes.
class CannedUpstream {
 public:
  explicit CannedUpstream(std::string response) : response_(std::move(response)) {
    boost::asio::co_spawn(io_, Accept(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~CannedUpstream() {
    io_.stop();
    thread_.join();
  }
  std::string url() const { return fmt::format("http://127.0.0.1:{}/v1", acceptor_.local_endpoint().port()); }

 private:
  boost::asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(upstream::kAwait);
      if (ec) co_return;
      boost::asio::co_spawn(io_, Answer(std::move(socket)), boost::asio::detached);
    }
  }
  boost::asio::awaitable<void> Answer(boost::asio::ip::tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    auto [ec, n] = co_await boost::beast::http::async_read(socket, buffer, request, upstream::kAwait);
    if (!ec) co_await boost::asio::async_write(socket, boost::asio::buffer(response_), upstream::kAwait);
    boost::system::error_code ignored;
    socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::string response_;
  std::thread thread_;
};

TEST_F(ProxyTest, AStatusHttpDoesNotDefineIsABadResponse) {
  for (const char* status : {"099 Odd", "000 Odd", "600 Odd"}) {
    CannedUpstream upstream(fmt::format(
        "HTTP/1.1 {}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}", status));
    StartProxy("", "", upstream.url());
    const Reply r = Post(kChat);
    EXPECT_EQ(r.status, 502u) << status << ": " << r.body;
    EXPECT_NE(r.body.find("malformed response"), std::string::npos) << status << ": " << r.body;
    server_.reset();
  }
}

TEST_F(ProxyTest, RelaysAStatusBeastHasNoNameForWithItsBody) {
  CannedUpstream upstream(
      "HTTP/1.1 529 Site Overloaded\r\nContent-Type: application/json\r\nContent-Length: 9\r\n"
      "Connection: close\r\n\r\n{\"a\":529}");
  StartProxy("", "", upstream.url());
  const Reply r = Post(kChat);  // one candidate, so a 5xx is relayed, not retried
  EXPECT_EQ(r.status, 529u);
  EXPECT_EQ(r.body, R"({"a":529})");
}

TEST_F(ProxyTest, RelaysAnUpstreamBodyLargerThanBeastsDefaultLimit) {
  StartProxy("", "", "", [](config::Config& c) {
    c.models.push_back(c.models[0]);
    c.models.back().name = c.models.back().upstream_model = "text-embedding-3-large";
  });
  // 300 inputs of 4,096 dimensions: well over Beast's 8 MB default body limit.
  std::string inputs;
  for (int i = 0; i < 300; ++i) inputs += fmt::format("{}\"text {}\"", i ? "," : "", i);
  Reply r = Post(fmt::format(R"({{"model":"text-embedding-3-large","input":[{}],"dimensions":4096}})",
                             inputs),
                 {}, "/v1/embeddings");
  ASSERT_EQ(r.status, 200u) << r.body.substr(0, 300);
  EXPECT_GT(r.body.size(), 8u << 20);
}

TEST_F(ProxyTest, RefusesTooManyMessagesAndTooDeepJsonAsTheConfigSays) {
  StartProxy("", "  max_messages: 3\n  max_json_depth: 16");
  const std::string message = R"({"role":"user","content":"Hi"})";
  auto chat = [&](int messages, const std::string& extra) {
    std::string body = R"({"model":"gpt-4o-mini",)" + extra + R"("messages":[)";
    for (int i = 0; i < messages; ++i) body += (i ? "," : "") + message;
    return body + "]}";
  };
  EXPECT_EQ(Post(chat(3, "")).status, 200u);
  Reply many = Post(chat(4, ""));
  ExpectOpenAiError(many, 400, "array_above_max_length");
  EXPECT_NE(many.body.find("maximum length 3"), std::string::npos) << many.body;
  // Nesting counts in fields the proxy never reads, too (the body itself is level 1).
  const std::string deep = R"("metadata":)" + std::string(16, '[') + std::string(16, ']') + ",";
  ExpectOpenAiError(Post(chat(1, deep)), 400, "json_too_deep");
  const std::string ok = R"("metadata":)" + std::string(15, '[') + std::string(15, ']') + ",";
  EXPECT_NE(Post(chat(1, ok)).status, 400u);
  EXPECT_EQ(mock_->requests_served(), 2u);  // the refused ones never left the proxy
}

TEST_F(ProxyTest, AnUpstreamRefusingTheProxysKeyIsABadGatewayNotTheClientsError) {
  StartProxy();
  for (const char* status : {"401", "403"}) {
    Reply r = Post(kChat, {{"x-mock-status", status}});
    ExpectOpenAiError(r, 502, "upstream_auth_failed");
    EXPECT_NE(r.body.find("Upstream 'mock' refused the proxy's credentials"), std::string::npos);
    EXPECT_EQ(r.body.find("x-mock-status"), std::string::npos) << "the upstream's body leaked: " << r.body;
  }
  EXPECT_EQ(Post(kChat, {{"x-mock-status", "400"}}).status, 400u);  // the client's own error
}

TEST_F(ProxyTest, PassesUpstreamErrorsThroughWithTheirStatusAndBody) {
  StartProxy();
  Reply r = Post(kChat, {{"x-mock-status", "429"}});
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_NE(r.body.find(R"("error":)"), std::string::npos);
  // The upstream asked for a second's rest: the next request waits it out, then goes.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Post(kChat).status, 200u);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(ProxyTest, ReplacesPooledConnectionsTheUpstreamClosedWhileIdle) {
  StartProxy();
  TestClient client(port());
  ASSERT_EQ(client.Post("/v1/chat/completions", kChat).status, 200u);
  // A restart of the upstream closes every pooled connection.
  mock::MockOptions options;
  options.port = mock_->port();
  mock_->Stop();
  mock_ = std::make_unique<mock::MockUpstream>(options);
  mock_->Start();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(client.Post("/v1/chat/completions", kChat).status, 200u);
}

TEST_F(ProxyTest, ClosesPooledConnectionsIdleTooLongWhileNewerOnesAreReused) {
  StartProxy("    idle_connection_timeout: 300ms", "", "",
             [](config::Config& c) { c.listener.threads = 1; });
  // Two connections into the pool: the mock holds one request while another one runs.
  auto held = std::async(std::launch::async, [&] { return Post(kChat, {{"x-mock-latency-ms", "150"}}); });
  ASSERT_TRUE(Eventually([&] { return mock_->open_connections() == 1; }));
  EXPECT_EQ(Post(kChat).status, 200u);
  EXPECT_EQ(held.get().status, 200u);
  ASSERT_EQ(mock_->open_connections(), 2);
  // Reuse keeps taking the newest; the other one passes its idle timeout meanwhile.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_EQ(Post(kChat).status, 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(Eventually([&] { return mock_->open_connections() == 1; }))
      << mock_->open_connections() << " upstream connections open";
}

TEST_F(ProxyTest, ClosesIdlePooledConnectionsWhenTrafficStops) {
  StartProxy("    idle_connection_timeout: 300ms");
  ASSERT_EQ(Post(kChat).status, 200u);
  ASSERT_EQ(mock_->open_connections(), 1);
  // No request follows to release or reuse a connection: the worker's sweep closes it.
  EXPECT_TRUE(Eventually([&] { return mock_->open_connections() == 0; }))
      << mock_->open_connections() << " upstream connections open";
}

TEST_F(ProxyTest, NeverSendsARequestTwiceAfterItWasWritten) {
  StartProxy();
  ASSERT_EQ(Post(kChat).status, 200u);  // leaves a pooled connection
  mock_->ClearRecordedRequests();
  ExpectOpenAiError(Post(kChat, {{"x-mock-fault", "reset-before"}}), 502, "upstream_reset");
  EXPECT_EQ(mock_->recorded_requests().size(), 1u);
}

TEST_F(ProxyTest, EndsAStalledStreamWithAnErrorEvent) {
  StartProxy("    timeouts: { idle: 300ms }");
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"messages":[]})", {{"x-mock-fault", "stall-mid"}});
  ASSERT_EQ(client.ReadHead(), 200u);
  const std::string all = client.ReadToEnd();
  EXPECT_TRUE(client.stream_complete());
  EXPECT_NE(all.find(R"("code":"upstream_idle_timeout")"), std::string::npos) << all;
  EXPECT_EQ(all.find("[DONE]"), std::string::npos);
}

TEST_F(ProxyTest, AClientLeavingMidStreamFreesTheUpstreamConnection) {
  StartProxy();
  {
    TestClient client(port());
    client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
                R"({"model":"gpt-4o-mini","stream":true,"messages":[]})",
                {{"x-mock-gap-ms", "50"}, {"x-mock-tokens", "1000"}});
    ASSERT_EQ(client.ReadHead(), 200u);
    ASSERT_TRUE(client.ReadSome());
    EXPECT_EQ(mock_->open_connections(), 1);
    client.Close();
  }
  EXPECT_TRUE(Eventually([&] { return mock_->open_connections() == 0; }))
      << "upstream connection still open";
  EXPECT_TRUE(Eventually([&] { return AccessLog().find(R"("error":"client_closed")") != std::string::npos; }))
      << AccessLog();
}

TEST_F(ProxyTest, ShutdownLetsAnInFlightStreamFinish) {
  StartProxy();
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"messages":[]})", {{"x-mock-gap-ms", "50"}});
  ASSERT_EQ(client.ReadHead(), 200u);
  ASSERT_TRUE(client.ReadSome());
  server_->Shutdown();
  const std::string rest = client.ReadToEnd();
  EXPECT_TRUE(client.stream_complete());
  EXPECT_NE(rest.find("data: [DONE]"), std::string::npos);
  server_->Wait();
  EXPECT_THROW(TestClient{port()}, boost::system::system_error);  // no longer accepting
}

TEST_F(ProxyTest, ShutdownClosesIdleKeepAliveConnectionsAndStops) {
  StartProxy();
  TestClient idle(port());
  ASSERT_EQ(idle.Post("/v1/chat/completions", kChat).status, 200u);
  server_->Shutdown();
  server_->Wait();  // returns although `idle` never closed its connection
}

TEST_F(ProxyTest, ServesModelsHealthAndMetrics) {
  StartProxy();
  Reply models = Get("/v1/models");
  EXPECT_EQ(models.status, 200u);
  EXPECT_NE(models.body.find(R"({"id":"llama3.2-3b","object":"model")"), std::string::npos);
  EXPECT_NE(Get("/v1/models/gpt-4o-mini").body.find(R"("id":"gpt-4o-mini")"), std::string::npos);
  EXPECT_EQ(Get("/healthz").status, 200u);
  EXPECT_EQ(Get("/readyz").status, 200u);
  ASSERT_EQ(Post(kChat).status, 200u);
  Reply metrics = Get("/metrics");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find(
                R"(switchyard_requests_total{model="gpt-4o-mini",status_class="2xx",tier="",upstream="mock"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("switchyard_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(ProxyTest, CountsReportedTokensAndTheirCostPerModel) {
  StartProxy("", "", "", [](config::Config& c) {
    for (auto& m : c.models)
      if (m.name == "gpt-4o-mini") m.prices = {0.15, 0.075, 0.60};
  });
  ASSERT_EQ(Post(kChat).status, 200u);
  TestClient client(port());
  client.Send(boost::beast::http::verb::post, "/v1/chat/completions",
              R"({"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]})");
  ASSERT_EQ(client.ReadHead(), 200u);
  client.ReadToEnd();
  std::string metrics;
  // Both requests' usage: 5 completion tokens each (the mock's output_tokens).
  EXPECT_TRUE(Eventually([&] {
    metrics = Get("/metrics").body;
    return metrics.find(R"(switchyard_tokens_total{model="gpt-4o-mini",type="completion",upstream="mock"} 10)") !=
           std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find(R"(switchyard_cost_usd_total{model="gpt-4o-mini",upstream="mock"} )"),
            std::string::npos);
  EXPECT_EQ(metrics.find(R"(switchyard_cost_usd_total{model="gpt-4o-mini",upstream="mock"} 0
)"), std::string::npos);
}

TEST_F(ProxyTest, ReadinessShowsAnUpstreamDownAfterFailedConnections) {
  StartProxy();
  EXPECT_NE(Get("/readyz").body.find(R"("dead":"up")"), std::string::npos);
  // Five failures in a row open its circuit breaker (the default).
  for (int i = 0; i < 5; ++i) Post(R"({"model":"dead-model"})");
  Reply ready = Get("/readyz");
  EXPECT_EQ(ready.status, 200u);  // "mock" is still usable
  EXPECT_NE(ready.body.find(R"("dead":"down")"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find(R"("mock":"up")"), std::string::npos) << ready.body;
}

TEST_F(ProxyTest, WritesOneAccessLogLinePerRequestWithoutSecrets) {
  StartProxy();
  Post(kChat, {{"Authorization", "Bearer client-secret-77"}});
  Post(R"({"model":"dead-model"})");
  Post("{bad");
  // Lines are written once the response went out, so the last one may trail the reply.
  std::string log;
  EXPECT_TRUE(Eventually([&] {
    log = AccessLog();
    return std::count(log.begin(), log.end(), '\n') == 3;
  })) << log;
  EXPECT_NE(log.find(R"("model":"gpt-4o-mini","upstream":"mock","status":200)"), std::string::npos)
      << log;
  EXPECT_NE(log.find(R"("status":502)"), std::string::npos);
  EXPECT_EQ(log.find(kUpstreamKey), std::string::npos);
  EXPECT_EQ(log.find("client-secret-77"), std::string::npos);
  EXPECT_EQ(log.find("Hello"), std::string::npos);  // no prompt text
}

TEST_F(ProxyTest, NeverLeaksTheUpstreamKeyInResponsesOrMetrics) {
  StartProxy();
  std::string all;
  for (const char* fault : {"", "reset-before", "malformed", "truncate"})
    all += Post(kChat, {{"x-mock-fault", fault}}).body;
  all += Post(R"({"model":"dead-model"})").body + Get("/metrics").body + Get("/v1/models").body;
  EXPECT_EQ(all.find(kUpstreamKey), std::string::npos);
}

}  // namespace
}  // namespace switchyard::testing
