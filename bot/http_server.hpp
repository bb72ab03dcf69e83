// The HTTP listener (Boost.Beast): one coroutine per connection, routes by method and
// path, body and header limits per route, read timeouts, keep-alive, graceful stop.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace auditbot {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpRoute {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path;            // exact match on the target's path (query string ignored)
  std::size_t body_limit = 0;  // 0 = the server default
  // Runs on a server thread; must not block for long (ack first, work later).
  std::function<HttpResponse(const HttpRequest&)> handler;
};

struct HttpServerOptions {
  std::string listen = "127.0.0.1:0";  // host:port; port 0 picks a free one
  std::size_t threads = 2;
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 8 << 10;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds shutdown_grace{5};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, std::vector<HttpRoute> routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the threads; returns the bound port. Throws on bind failure.
  unsigned short start();
  // Stops accepting, lets in-flight requests finish (up to shutdown_grace), joins threads.
  void stop();
  // Blocks until SIGTERM or SIGINT, then stop().
  void wait_for_signal();

  unsigned short port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Helpers for handlers.
HttpResponse make_response(const HttpRequest& req, boost::beast::http::status status,
                           std::string body, std::string content_type = "text/plain");
HttpResponse json_response(const HttpRequest& req, boost::beast::http::status status,
                           const std::string& json);

}  // namespace auditbot
