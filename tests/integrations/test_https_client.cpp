// The shared HTTPS client against the fake server: verification, keep-alive, faults.
#include <gtest/gtest.h>

#include <thread>

#include "integrations/http/https_client.hpp"
#include "tests/fakes/fake_https_server.hpp"
#include "tests/fakes/test_ca.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

http::ClientOptions trusting_test_ca() {
  http::ClientOptions o;
  o.ca_file = TestCa::get().ca_file;
  o.io_timeout = 2000ms;
  return o;
}

TEST(HttpsClient, PostsWithBearerAndHeadersAndReadsTheAnswer) {
  FakeHttpsServer server([](const RecordedRequest& r) {
    auto a = FakeResponse::json(R"({"ok":true,"echo":)" + std::to_string(r.body.size()) + "}");
    a.headers.push_back({"X-Extra", "yes"});
    return a;
  });
  http::Client client(trusting_test_ca());
  http::Request req;
  req.method = bhttp::verb::post;
  req.url = server.base_url() + "/api/chat.postMessage?x=1";
  req.bearer = "xoxb-secret";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = R"({"a":1})";
  auto res = client.send(req);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, R"({"ok":true,"echo":7})");
  EXPECT_EQ(res.header("x-extra"), "yes");
  auto recs = server.requests_to("/api/chat.postMessage");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].header("authorization"), "Bearer xoxb-secret");
  EXPECT_EQ(recs[0].header("content-type"), "application/json");
  EXPECT_EQ(recs[0].target, "/api/chat.postMessage?x=1");
  EXPECT_EQ(recs[0].body, R"({"a":1})");
}

TEST(HttpsClient, ReturnsErrorStatusesAsResponses) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  server.inject(FakeResponse::rate_limited(7));
  server.inject(FakeResponse::status_only(500));
  http::Client client(trusting_test_ca());
  auto r1 = client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""});
  EXPECT_EQ(r1.status, 429u);
  EXPECT_EQ(r1.header("Retry-After"), "7");
  auto r2 = client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""});
  EXPECT_EQ(r2.status, 500u);
  auto r3 = client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""});
  EXPECT_EQ(r3.status, 200u);
}

TEST(HttpsClient, RefusesAServerItsCaDoesNotVouchFor) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  http::ClientOptions o;
  o.ca_file = TestCa::get().other_ca_file;
  http::Client client(o);
  try {
    client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""});
    FAIL() << "expected a TLS error";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.kind(), http::HttpError::Kind::tls);
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpsClient, RefusesWhenTheHostNameDoesNotMatchTheCertificate) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  http::Client client(trusting_test_ca());
  // The certificate names 127.0.0.1 and localhost, not 127.0.0.2 (which also reaches us).
  const std::string url = "https://127.0.0.2:" + std::to_string(server.port()) + "/x";
  try {
    client.send({bhttp::verb::get, url, {}, "", ""});
    FAIL() << "expected a TLS error";
  } catch (const http::HttpError& e) {
    EXPECT_TRUE(e.kind() == http::HttpError::Kind::tls ||
                e.kind() == http::HttpError::Kind::connect);
  }
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpsClient, LocalhostNameVerifiesToo) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  http::Client client(trusting_test_ca());
  auto r = client.send(
      {bhttp::verb::get, "https://localhost:" + std::to_string(server.port()) + "/x", {}, "", ""});
  EXPECT_EQ(r.status, 200u);
}

TEST(HttpsClient, DroppedConnectionIsATypedError) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  server.inject(FakeResponse::dropped());
  http::Client client(trusting_test_ca());
  try {
    client.send({bhttp::verb::post, server.base_url() + "/x", {}, "b", ""});
    FAIL() << "expected an error";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.kind(), http::HttpError::Kind::closed);
  }
  EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""}).status, 200u);
}

TEST(HttpsClient, SlowAnswerTimesOut) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  auto slow = FakeResponse::json("{}");
  slow.delay = 1500ms;
  server.inject(slow);
  auto o = trusting_test_ca();
  o.io_timeout = 200ms;
  http::Client client(o);
  try {
    client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""});
    FAIL() << "expected a timeout";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.kind(), http::HttpError::Kind::timeout);
  }
}

TEST(HttpsClient, ConnectionRefusedIsAConnectError) {
  unsigned short port = 0;
  {
    FakeHttpsServer s([](const RecordedRequest&) { return FakeResponse::json("{}"); });
    port = s.port();
  }
  http::Client client(trusting_test_ca());
  try {
    client.send({bhttp::verb::get, "https://127.0.0.1:" + std::to_string(port) + "/", {}, "", ""});
    FAIL() << "expected an error";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.kind(), http::HttpError::Kind::connect);
  }
}

TEST(HttpsClient, ReusesOneConnectionForManyRequests) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  http::Client client(trusting_test_ca());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""}).status, 200u);
  }
  ASSERT_EQ(server.requests().size(), 5u);
  for (const auto& r : server.requests())
    EXPECT_EQ(r.connection, 1u);
}

// A connection idle longer than max_idle is not trusted (a middlebox may have dropped it
// silently): the next request opens a fresh one.
TEST(HttpsClient, AConnectionIdleTooLongIsNotReused) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  auto o = trusting_test_ca();
  o.max_idle = 1000ms;
  http::Client client(o);
  EXPECT_EQ(client.send({bhttp::verb::post, server.base_url() + "/a", {}, "1", ""}).status, 200u);
  EXPECT_EQ(client.send({bhttp::verb::post, server.base_url() + "/a", {}, "2", ""}).status, 200u);
  std::this_thread::sleep_for(1300ms);
  EXPECT_EQ(client.send({bhttp::verb::post, server.base_url() + "/a", {}, "3", ""}).status, 200u);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].connection, reqs[1].connection);  // quick succession: reused
  EXPECT_NE(reqs[1].connection, reqs[2].connection);
}

// The server closed the pooled connection while it sat idle: the next POST goes out once,
// on a fresh connection, and succeeds.
TEST(HttpsClient, AConnectionTheServerClosedWhileIdleIsNotReused) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  auto answered_then_closed = FakeResponse::json("{}");
  answered_then_closed.close_after = true;
  server.inject(answered_then_closed);
  http::Client client(trusting_test_ca());
  EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""}).status, 200u);
  std::this_thread::sleep_for(200ms);  // the close reaches the client
  EXPECT_EQ(client.send({bhttp::verb::post, server.base_url() + "/y", {}, "b", ""}).status, 200u);
  EXPECT_EQ(server.requests_to("/y").size(), 1u);
}

// The connection broke after a POST went out on it and before any answer: the server may
// have acted, so the client does not send it again; a GET in the same spot is sent again.
TEST(HttpsClient, APostWhoseAnswerNeverCameIsNotSentAgainButAGetIs) {
  FakeHttpsServer server([](const RecordedRequest&) { return FakeResponse::json("{}"); });
  http::Client client(trusting_test_ca());
  EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""}).status, 200u);
  server.inject(FakeResponse::dropped());
  try {
    client.send({bhttp::verb::post, server.base_url() + "/post", {}, "b", ""});
    FAIL() << "expected an error";
  } catch (const http::HttpError& e) {
    EXPECT_EQ(e.kind(), http::HttpError::Kind::closed);
  }
  EXPECT_EQ(server.requests_to("/post").size(), 1u);

  EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/x", {}, "", ""}).status, 200u);
  server.inject(FakeResponse::dropped());
  EXPECT_EQ(client.send({bhttp::verb::get, server.base_url() + "/get", {}, "", ""}).status, 200u);
  EXPECT_EQ(server.requests_to("/get").size(), 2u);
}

TEST(HttpsClient, PlainHttpUrlsAreRejected) {
  http::Client client(trusting_test_ca());
  EXPECT_THROW(client.send({bhttp::verb::get, "http://127.0.0.1:1/x", {}, "", ""}),
               std::invalid_argument);
}

TEST(Url, ParsesHostPortAndTarget) {
  auto u = http::Url::parse("https://Slack.com/api/");
  EXPECT_EQ(u.host, "slack.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/api/");
  auto w = http::Url::parse("wss://127.0.0.1:9000/link/?ticket=abc");
  EXPECT_EQ(w.port, "9000");
  EXPECT_EQ(w.target, "/link/?ticket=abc");
}

}  // namespace
}  // namespace auditbot::test
