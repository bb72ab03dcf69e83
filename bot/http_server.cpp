// The HTTP listener: an acceptor, N threads on one io_context, one coroutine per connection
// on its own strand, per-route body limits, read timeouts, keep-alive and graceful stop.
#include "bot/http_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/none.hpp>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "bot/metrics.hpp"

namespace auditbot {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
// After an error reply we discard at most this much of the unread request, for this long.
constexpr std::size_t kDrainLimit = 1 << 20;
constexpr std::chrono::seconds kDrainTimeout{1};
// After shutdown_grace, force-closed connections get this long to unwind before we stop.
constexpr std::chrono::seconds kForceCloseWait{1};
constexpr std::string_view kUnmatchedPath = "(unmatched)";

template <class StringView>
std::string_view sv(StringView s) {
  return {s.data(), s.size()};
}

// Peer hang-ups and our own cancellations are normal life for a listener, not news.
void fail(beast::error_code ec, std::string_view what) {
  // operation_aborted: stop() or a timeout closed the socket under a pending operation.
  // end_of_stream: the client closed the connection cleanly between two requests.
  if (ec == asio::error::operation_aborted || ec == http::error::end_of_stream) {
    return;
  }
  log::debug("http.io_error", {{"op", what}, {"error", ec.message()}});
}

bool is_parse_error(beast::error_code ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string escape_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
    }
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

tcp::endpoint parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError("listen: expected host:port, got \"" + listen + "\"");
  }
  std::string host = listen.substr(0, colon);
  const std::string port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, perr] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || perr != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    throw ConfigError("listen: bad port in \"" + listen + "\"");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) {
    host = "0.0.0.0";
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    return {address, static_cast<unsigned short>(port)};
  }
  // A name such as "localhost": take the first address it resolves to.
  asio::io_context resolver_ioc;
  tcp::resolver resolver(resolver_ioc);
  const auto results = resolver.resolve(host, port_text, tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    throw ConfigError("listen: cannot resolve host \"" + host + "\"");
  }
  return results.begin()->endpoint();
}

void log_exception(std::string_view event, const std::exception_ptr& e) {
  if (!e) {
    return;
  }
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error(event, {{"error", ex.what()}});
  } catch (...) {
    log::error(event, {{"error", "unknown exception"}});
  }
}

}  // namespace

struct HttpServer::Impl {
  struct Conn {
    Conn(Impl* owner, std::uint64_t conn_id, tcp::socket socket)
        : impl(owner), id(conn_id), stream(std::move(socket)) {}
    ~Conn() { impl->unregister(id); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    Impl* impl;
    std::uint64_t id;
    beast::tcp_stream stream;
    bool busy = false;  // a request is being read, handled or answered; strand-only
  };

  struct Route {
    std::vector<const HttpRoute*> by_method;
    std::string allow;  // value of the Allow header for 405
  };

  Impl(HttpServerOptions opts, std::vector<HttpRoute> route_list)
      : options(std::move(opts)),
        routes(std::move(route_list)),
        requests_help("HTTP requests answered, by route and status."),
        open_connections(Metrics::global().gauge("auditbot_http_open_connections",
                                                 "HTTP connections currently open.")),
        ioc(static_cast<int>(std::max<std::size_t>(options.threads, 1))) {
    for (const auto& route : routes) {
      if (!route.handler) {
        throw std::invalid_argument("http route without handler: " + route.path);
      }
      auto& entry = by_path[route.path];
      for (const auto* other : entry.by_method) {
        if (other->method == route.method) {
          throw std::invalid_argument(
              "duplicate http route: " + std::string(sv(http::to_string(route.method))) + " " +
              route.path);
        }
      }
      entry.by_method.push_back(&route);
      if (!entry.allow.empty()) {
        entry.allow += ", ";
      }
      entry.allow += sv(http::to_string(route.method));
    }
  }

  unsigned short start();
  void stop();
  void do_stop();
  void wait_for_signal();

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(std::shared_ptr<Conn> conn);
  asio::awaitable<bool> respond(beast::tcp_stream& stream, HttpResponse& res,
                                std::string_view method, std::string_view path,
                                std::string_view path_label, bool keep_alive);
  asio::awaitable<void> linger(beast::tcp_stream& stream);
  HttpResponse invoke(const HttpRoute& route, const HttpRequest& req);

  std::shared_ptr<Conn> register_conn(tcp::socket socket) {
    std::lock_guard lock(mu);
    auto conn = std::make_shared<Conn>(this, next_id++, std::move(socket));
    conns.emplace(conn->id, conn);
    open_connections.fetch_add(1, std::memory_order_relaxed);
    return conn;
  }

  void unregister(std::uint64_t id) {
    {
      std::lock_guard lock(mu);
      conns.erase(id);
    }
    open_connections.fetch_sub(1, std::memory_order_relaxed);
    drained.notify_all();
  }

  std::vector<std::shared_ptr<Conn>> snapshot() {
    std::vector<std::shared_ptr<Conn>> out;
    std::lock_guard lock(mu);
    for (auto& [id, weak] : conns) {
      if (auto conn = weak.lock()) {
        out.push_back(std::move(conn));
      }
    }
    // Released by the caller outside the lock: a last reference runs ~Conn, which locks mu.
    return out;
  }

  bool wait_drained(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(mu);
    // The accept loop counts too: until it has closed the acceptor, connects still succeed.
    return drained.wait_for(lock, timeout, [this] { return conns.empty() && !accepting; });
  }

  const HttpServerOptions options;
  const std::vector<HttpRoute> routes;
  std::map<std::string, Route, std::less<>> by_path;
  const std::string requests_help;
  std::atomic<std::int64_t>& open_connections;

  std::mutex mu;
  std::condition_variable drained;
  std::map<std::uint64_t, std::weak_ptr<Conn>> conns;
  std::uint64_t next_id = 0;
  bool started = false;
  bool accepting = false;  // the accept loop has not finished yet
  bool stop_requested = false;
  asio::io_context* signal_ioc = nullptr;  // set while wait_for_signal() blocks
  std::once_flag stop_once;
  std::atomic<bool> stopping{false};
  std::atomic<unsigned short> bound_port{0};

  // Declared after everything its pending handlers touch, so it is destroyed before them.
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
};

unsigned short HttpServer::Impl::start() {
  std::lock_guard lock(mu);
  if (started || stop_requested) {
    throw std::logic_error("HttpServer::start called twice");
  }
  const auto endpoint = parse_listen(options.listen);
  acceptor.emplace(asio::make_strand(ioc));
  beast::error_code ec;
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) {
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor->bind(endpoint, ec);
  }
  if (!ec) {
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    acceptor.reset();
    throw std::system_error(ec, "http listen on " + options.listen);
  }
  bound_port = acceptor->local_endpoint().port();
  accepting = true;
  asio::co_spawn(acceptor->get_executor(), accept_loop(), [this](const std::exception_ptr& e) {
    log_exception("http.accept_failed", e);
    {
      std::lock_guard done_lock(mu);
      accepting = false;
    }
    drained.notify_all();
  });
  const auto count = std::max<std::size_t>(options.threads, 1);
  for (std::size_t i = 0; i < count; ++i) {
    threads.emplace_back([this] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (...) {
          log_exception("http.thread_error", std::current_exception());
        }
      }
    });
  }
  started = true;
  const auto port_text = std::to_string(bound_port.load());
  log::info("http.listening", {{"listen", options.listen}, {"port", port_text}});
  return bound_port;
}

asio::awaitable<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(asio::make_strand(ioc), kAwait);
    if (stopping) {
      co_return;
    }
    if (ec) {
      if (ec == asio::error::operation_aborted) {
        co_return;
      }
      fail(ec, "accept");
      // Out of descriptors and the like: back off a little instead of spinning.
      asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(kAwait);
      continue;
    }
    auto conn = register_conn(std::move(socket));
    auto executor = conn->stream.get_executor();
    asio::co_spawn(executor, session(std::move(conn)),
                   [](const std::exception_ptr& e) { log_exception("http.session_failed", e); });
  }
}

asio::awaitable<void> HttpServer::Impl::session(std::shared_ptr<Conn> conn) {
  auto& stream = conn->stream;
  beast::flat_buffer buffer;
  for (;;) {
    conn->busy = false;
    if (stopping) {
      break;
    }

    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    // The parser would reject a Content-Length over its limit while still reading the
    // header, before we know the route; we check the length ourselves once routed.
    parser.body_limit(boost::none);

    stream.expires_after(options.read_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kAwait);
    if (ec == http::error::header_limit ||
        (is_parse_error(ec) && ec != http::error::partial_message)) {
      conn->busy = true;
      const bool too_large = ec == http::error::header_limit;
      const HttpRequest unparsed;  // HTTP/1.1, for the status line of the reply
      auto res = too_large ? make_response(unparsed, http::status::request_header_fields_too_large,
                                           "request header fields too large\n")
                           : make_response(unparsed, http::status::bad_request, "bad request\n");
      if (co_await respond(stream, res, "-", "-", kUnmatchedPath, false)) co_await linger(stream);
      break;
    }
    if (ec) {
      fail(ec, "read header");
      break;
    }
    conn->busy = true;

    const auto& head = parser.get();
    const std::string method(sv(head.method_string()));
    const std::string path(path_of(sv(head.target())));
    const bool client_keep_alive = head.keep_alive();

    const HttpRoute* route = nullptr;
    const auto entry = by_path.find(path);
    if (entry != by_path.end()) {
      for (const auto* candidate : entry->second.by_method) {
        if (candidate->method == head.method()) {
          route = candidate;
        }
      }
    }
    if (route == nullptr) {
      const bool known_path = entry != by_path.end();
      auto res = known_path
                     ? make_response(head, http::status::method_not_allowed, "method not allowed\n")
                     : make_response(head, http::status::not_found, "not found\n");
      if (known_path) {
        res.set(http::field::allow, entry->second.allow);
      }
      // We do not read bodies nobody asked for; a pending body means we must close after.
      const bool body_pending = !parser.is_done();
      const bool keep = client_keep_alive && !body_pending && !stopping;
      if (!co_await respond(stream, res, method, path, known_path ? path : kUnmatchedPath, keep)) {
        break;
      }
      if (keep) {
        continue;
      }
      if (body_pending) {
        co_await linger(stream);
      }
      break;
    }

    const std::size_t limit = route->body_limit != 0 ? route->body_limit : options.body_limit;
    if (const auto length = parser.content_length(); length && *length > limit) {
      auto res = make_response(head, http::status::payload_too_large, "payload too large\n");
      if (co_await respond(stream, res, method, path, route->path, false)) co_await linger(stream);
      break;
    }
    parser.body_limit(limit);

    if (!parser.is_done()) {
      if (beast::iequals(head[http::field::expect], "100-continue")) {
        http::response<http::empty_body> proceed{http::status::continue_, head.version()};
        stream.expires_after(options.read_timeout);
        auto [wec, wn] = co_await http::async_write(stream, proceed, kAwait);
        if (wec) {
          fail(wec, "write continue");
          break;
        }
      }
      stream.expires_after(options.read_timeout);
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kAwait);
      if (bec == http::error::body_limit) {
        auto res = make_response(head, http::status::payload_too_large, "payload too large\n");
        if (co_await respond(stream, res, method, path, route->path, false)) {
          co_await linger(stream);
        }
        break;
      }
      if (bec) {
        fail(bec, "read body");
        break;
      }
    }

    HttpRequest req = parser.release();
    HttpResponse res = invoke(*route, req);
    res.version(req.version());
    const bool keep = client_keep_alive && res.keep_alive() && !stopping;
    if (!co_await respond(stream, res, method, path, route->path, keep) || !keep) {
      break;
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<bool> HttpServer::Impl::respond(beast::tcp_stream& stream, HttpResponse& res,
                                                std::string_view method, std::string_view path,
                                                std::string_view path_label, bool keep_alive) {
  res.keep_alive(keep_alive);
  res.prepare_payload();
  const auto status = std::to_string(res.result_int());
  // Counted before the write so a client that has read its answer also sees it counted.
  Metrics::global()
      .counter("auditbot_http_requests_total", requests_help,
               "path=\"" + escape_label(path_label) + "\",status=\"" + status + "\"")
      .fetch_add(1, std::memory_order_relaxed);
  // The path without its query string: queries may carry tokens.
  if (log::enabled(log::Level::debug)) {
    log::debug("http.request", {{"method", method}, {"path", path}, {"status", status}});
  }
  stream.expires_after(options.read_timeout);
  auto [ec, n] = co_await http::async_write(stream, res, kAwait);
  if (ec) {
    fail(ec, "write");
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> HttpServer::Impl::linger(beast::tcp_stream& stream) {
  // Closing with unread request bytes makes the kernel send RST, which can destroy the
  // error reply before the client reads it; so half-close and discard input for a moment.
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) {
    co_return;
  }
  std::array<char, 4096> sink{};
  std::size_t total = 0;
  stream.expires_after(kDrainTimeout);
  while (total < kDrainLimit) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kAwait);
    if (rec) {
      break;
    }
    total += n;
  }
}

HttpResponse HttpServer::Impl::invoke(const HttpRoute& route, const HttpRequest& req) {
  try {
    return route.handler(req);
  } catch (const std::exception& e) {
    log::error("http.handler_failed", {{"path", route.path}, {"error", e.what()}});
  } catch (...) {
    log::error("http.handler_failed", {{"path", route.path}, {"error", "unknown exception"}});
  }
  return make_response(req, http::status::internal_server_error, "internal error\n");
}

void HttpServer::Impl::stop() {
  // Joining from one of our own threads would wait for itself forever.
  if (ioc.get_executor().running_in_this_thread()) {
    throw std::logic_error("HttpServer::stop called from a server thread");
  }
  std::call_once(stop_once, [this] { do_stop(); });
}

void HttpServer::Impl::do_stop() {
  stopping = true;
  {
    std::lock_guard lock(mu);
    stop_requested = true;
    if (signal_ioc != nullptr) {
      signal_ioc->stop();
    }
    if (!started) {
      return;
    }
  }
  asio::post(acceptor->get_executor(), [this] {
    beast::error_code ignored;
    acceptor->close(ignored);
  });
  // Idle connections go now; busy ones finish their response and then close themselves.
  for (auto& conn : snapshot()) {
    asio::post(conn->stream.get_executor(), [conn] {
      if (!conn->busy) {
        conn->stream.cancel();
      }
    });
  }
  bool clean = wait_drained(options.shutdown_grace);
  if (!clean) {
    for (auto& conn : snapshot()) {
      asio::post(conn->stream.get_executor(), [conn] { conn->stream.close(); });
    }
    wait_drained(kForceCloseWait);
  }
  ioc.stop();
  for (auto& thread : threads) {
    thread.join();
  }
  log::info("http.stopped", {{"graceful", clean ? "true" : "false"}});
}

void HttpServer::Impl::wait_for_signal() {
  asio::io_context signals_ioc(1);
  asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  {
    std::lock_guard lock(mu);
    if (stop_requested) {
      return;
    }
    signal_ioc = &signals_ioc;
  }
  signals.async_wait([](beast::error_code ec, int signo) {
    if (!ec) {
      log::info("http.signal", {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
    }
  });
  signals_ioc.run();
  {
    std::lock_guard lock(mu);
    signal_ioc = nullptr;
  }
  stop();
}

HttpServer::HttpServer(HttpServerOptions options, std::vector<HttpRoute> routes)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(routes))) {}

HttpServer::~HttpServer() {
  try {
    impl_->stop();
  } catch (const std::exception& e) {
    log::error("http.stop_failed", {{"error", e.what()}});
  }
}

unsigned short HttpServer::start() {
  return impl_->start();
}
void HttpServer::stop() {
  impl_->stop();
}
void HttpServer::wait_for_signal() {
  impl_->wait_for_signal();
}
unsigned short HttpServer::port() const {
  return impl_->bound_port;
}

HttpResponse make_response(const HttpRequest& req, http::status status, std::string body,
                           std::string content_type) {  // NOLINT: by value in the contract
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "auditbot");
  res.set(http::field::content_type, content_type);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse json_response(const HttpRequest& req, http::status status, const std::string& json) {
  return make_response(req, status, json, "application/json");
}

}  // namespace auditbot
