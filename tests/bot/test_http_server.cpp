// The HTTP listener as a client on loopback sees it: routes, error statuses, limits,
// timeouts, keep-alive, graceful stop and SIGTERM.
#include "bot/http_server.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <future>
#include <stdexcept>
#include <thread>

#include "bot/errors.hpp"
#include "bot/metrics.hpp"

namespace auditbot {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A blocking loopback client; a receive timeout turns a server that never answers into a
// failed test instead of a hung one.
class Client {
 public:
  explicit Client(unsigned short port) {
    stream_.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    timeval tv{};
    tv.tv_sec = 10;
    ::setsockopt(stream_.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  HttpResponse send(HttpRequest req, bool prepare = true) {
    req.set(http::field::host, "127.0.0.1");
    if (prepare) req.prepare_payload();
    http::write(stream_, req);
    return read();
  }

  HttpResponse get(const std::string& target) { return send({http::verb::get, target, 11}); }

  HttpResponse read() {
    HttpResponse res;
    http::read(stream_, buffer_, res);
    return res;
  }

  void write_raw(const std::string& bytes) { asio::write(stream_.socket(), asio::buffer(bytes)); }

  // Blocks until the server closes the connection; returns the error the read ended with.
  beast::error_code wait_closed() {
    std::array<char, 256> sink{};
    beast::error_code ec;
    while (!ec)
      stream_.socket().read_some(asio::buffer(sink), ec);
    return ec;
  }

 private:
  asio::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
};

bool closed_by_peer(beast::error_code ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset;
}

HttpRoute route(http::verb method, std::string path,
                std::function<HttpResponse(const HttpRequest&)> handler,
                std::size_t body_limit = 0) {
  HttpRoute r;
  r.method = method;
  r.path = std::move(path);
  r.body_limit = body_limit;
  r.handler = std::move(handler);
  return r;
}

HttpResponse echo_body(const HttpRequest& req) {
  return make_response(req, http::status::ok, "got " + req.body());
}

std::int64_t requests_counted(const std::string& path, int status) {
  return Metrics::global()
      .counter("auditbot_http_requests_total", "",
               "path=\"" + path + "\",status=\"" + std::to_string(status) + "\"")
      .load();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options = {}) {
    std::vector<HttpRoute> routes;
    routes.push_back(route(http::verb::get, "/healthz", [](const HttpRequest& req) {
      return make_response(req, http::status::ok, "ok\n");
    }));
    routes.push_back(route(http::verb::get, "/json", [](const HttpRequest& req) {
      return json_response(req, http::status::ok, R"({"ok":true})");
    }));
    routes.push_back(route(http::verb::post, "/small", echo_body, 16));
    routes.push_back(route(http::verb::post, "/both", echo_body));
    routes.push_back(route(http::verb::get, "/both", echo_body));
    routes.push_back(route(http::verb::get, "/boom", [](const HttpRequest&) -> HttpResponse {
      throw std::runtime_error("db password is hunter2");
    }));
    routes.push_back(route(http::verb::get, "/slow", [this](const HttpRequest& req) {
      slow_entered_.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return make_response(req, http::status::ok, "slow done");
    }));
    server_ = std::make_unique<HttpServer>(options, std::move(routes));
    port_ = server_->start();
  }

  std::unique_ptr<HttpServer> server_;
  unsigned short port_ = 0;
  std::promise<void> slow_entered_;
};

TEST_F(HttpServerTest, StartReturnsTheBoundPortAndGetRouteAnswers) {
  start();
  ASSERT_NE(port_, 0);
  EXPECT_EQ(server_->port(), port_);
  Client client(port_);
  const auto res = client.get("/healthz");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "ok\n");
  EXPECT_EQ(res[http::field::content_type], "text/plain");
}

TEST_F(HttpServerTest, JsonResponseCarriesItsContentType) {
  start();
  Client client(port_);
  const auto res = client.get("/json");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json");
  EXPECT_EQ(res.body(), R"({"ok":true})");
}

TEST_F(HttpServerTest, QueryStringIsIgnoredForRouting) {
  start();
  Client client(port_);
  EXPECT_EQ(client.get("/healthz?probe=1").result(), http::status::ok);
}

TEST_F(HttpServerTest, PostBodyReachesTheHandler) {
  start();
  Client client(port_);
  HttpRequest req{http::verb::post, "/small", 11};
  req.body() = "hello";
  const auto res = client.send(req);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "got hello");
}

TEST_F(HttpServerTest, UnknownPathIs404AndCounted) {
  start();
  const auto before = requests_counted("(unmatched)", 404);
  Client client(port_);
  EXPECT_EQ(client.get("/nope").result(), http::status::not_found);
  EXPECT_EQ(requests_counted("(unmatched)", 404), before + 1);
}

TEST_F(HttpServerTest, RequestsAreCountedByRouteAndStatusInMetrics) {
  start();
  const auto before = requests_counted("/healthz", 200);
  Client client(port_);
  client.get("/healthz");
  client.get("/healthz");
  EXPECT_EQ(requests_counted("/healthz", 200), before + 2);
  EXPECT_NE(Metrics::global().render().find(
                "auditbot_http_requests_total{path=\"/healthz\",status=\"200\"}"),
            std::string::npos);
}

TEST_F(HttpServerTest, WrongMethodOnKnownPathIs405WithAllow) {
  start();
  Client client(port_);
  const auto res = client.send({http::verb::get, "/small", 11});
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST");

  const auto both = client.send({http::verb::delete_, "/both", 11});
  EXPECT_EQ(both.result(), http::status::method_not_allowed);
  EXPECT_EQ(both[http::field::allow], "POST, GET");
}

TEST_F(HttpServerTest, OversizeBodyWithContentLengthIs413) {
  start();
  Client client(port_);
  HttpRequest req{http::verb::post, "/small", 11};
  req.body() = std::string(100, 'x');
  const auto res = client.send(req);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(HttpServerTest, OversizeChunkedBodyIs413) {
  start();
  Client client(port_);
  HttpRequest req{http::verb::post, "/small", 11};
  req.body() = std::string(100, 'x');
  req.chunked(true);  // no Content-Length: the limit trips while reading the body
  EXPECT_EQ(client.send(req, false).result(), http::status::payload_too_large);
}

TEST_F(HttpServerTest, BodyWithinTheRouteLimitButOverTheDefaultIsAccepted) {
  HttpServerOptions options;
  options.body_limit = 8;
  start(options);
  Client client(port_);
  HttpRequest req{http::verb::post, "/small", 11};  // route limit 16
  req.body() = std::string(12, 'y');
  EXPECT_EQ(client.send(req).result(), http::status::ok);
  HttpRequest big{http::verb::post, "/both", 11};  // server default 8
  big.body() = std::string(12, 'y');
  EXPECT_EQ(client.send(big).result(), http::status::payload_too_large);
}

TEST_F(HttpServerTest, HugeHeaderIs431) {
  start();
  Client client(port_);
  HttpRequest req{http::verb::get, "/healthz", 11};
  req.set("X-Padding", std::string(20 * 1024, 'h'));
  const auto res = client.send(req);
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
}

TEST_F(HttpServerTest, GarbageRequestIs400) {
  start();
  Client client(port_);
  client.write_raw("this is not http\r\n\r\n");
  EXPECT_EQ(client.read().result(), http::status::bad_request);
}

TEST_F(HttpServerTest, HandlerExceptionIs500WithoutItsText) {
  start();
  Client client(port_);
  const auto res = client.get("/boom");
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_EQ(res.body().find("hunter2"), std::string::npos);
  // The connection survives a failed handler.
  EXPECT_EQ(client.get("/healthz").result(), http::status::ok);
}

TEST_F(HttpServerTest, PartialRequestIsClosedAfterTheReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  start(options);
  Client client(port_);
  client.write_raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");  // never finished
  EXPECT_TRUE(closed_by_peer(client.wait_closed()));
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  start();
  Client client(port_);
  const auto first = client.get("/healthz");
  EXPECT_EQ(first.result(), http::status::ok);
  EXPECT_TRUE(first.keep_alive());
  const auto second = client.get("/json");
  EXPECT_EQ(second.result(), http::status::ok);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  start();
  Client client(port_);
  HttpRequest req{http::verb::get, "/healthz", 11};
  req.keep_alive(false);
  const auto res = client.send(req);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(closed_by_peer(client.wait_closed()));
}

TEST_F(HttpServerTest, StopLetsAnInFlightRequestFinishThenRefusesConnections) {
  start();
  auto response = std::async(std::launch::async, [port = port_] {
    Client client(port);
    return client.get("/slow");
  });
  slow_entered_.get_future().wait();
  server_->stop();

  const auto res = response.get();
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "slow done");
  EXPECT_FALSE(res.keep_alive());

  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(HttpServerTest, StopClosesIdleKeepAliveConnections) {
  start();
  Client client(port_);
  EXPECT_EQ(client.get("/healthz").result(), http::status::ok);
  server_->stop();
  EXPECT_TRUE(closed_by_peer(client.wait_closed()));
}

TEST_F(HttpServerTest, StopIsIdempotent) {
  start();
  server_->stop();
  server_->stop();
  server_.reset();  // the destructor stops once more
}

TEST_F(HttpServerTest, WaitForSignalReturnsOnStop) {
  start();
  auto waiter = std::async(std::launch::async, [this] { server_->wait_for_signal(); });
  server_->stop();
  waiter.get();
}

TEST_F(HttpServerTest, SigtermStopsTheServer) {
  start();
  // Our own registration keeps the default action (terminate) away while the server's
  // signal_set is not yet installed.
  asio::io_context guard_ioc;
  asio::signal_set guard(guard_ioc, SIGTERM);

  auto waiter = std::async(std::launch::async, [this] { server_->wait_for_signal(); });
  while (waiter.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    std::raise(SIGTERM);
  }
  waiter.get();

  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST(HttpServerConfig, BadListenAddressIsAConfigError) {
  HttpServerOptions options;
  options.listen = "no-port-here";
  HttpServer server(options, {});
  EXPECT_THROW(server.start(), ConfigError);
}

TEST(HttpServerConfig, PortInUseFailsToStart) {
  HttpServer first(HttpServerOptions{}, {});
  const auto port = first.start();
  HttpServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(port);
  HttpServer second(options, {});
  EXPECT_THROW(second.start(), std::system_error);
}

TEST(HttpServerConfig, DuplicateRouteIsRejected) {
  std::vector<HttpRoute> routes;
  routes.push_back(route(http::verb::get, "/a", echo_body));
  routes.push_back(route(http::verb::get, "/a", echo_body));
  EXPECT_THROW(HttpServer(HttpServerOptions{}, std::move(routes)), std::invalid_argument);
}

}  // namespace
}  // namespace auditbot
