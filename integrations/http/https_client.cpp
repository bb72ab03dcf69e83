// HTTPS client: one io_context per pooled connection so a blocking call can run its own
// async operations with Beast's per-operation timeouts.
#include "integrations/http/https_client.hpp"

#include <openssl/ssl.h>
#include <poll.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <deque>
#include <mutex>

#include "bot/text.hpp"

namespace auditbot::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Errors that mean "the peer closed the connection" (a stale keep-alive, a dropped link).
bool is_closed(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == ssl::error::stream_truncated || ec == bhttp::error::partial_message;
}

[[noreturn]] void fail(HttpError::Kind fallback, const boost::system::error_code& ec,
                       std::string_view stage, const Url& url) {
  auto kind = fallback;
  if (ec == beast::error::timeout)
    kind = HttpError::Kind::timeout;
  else if (is_closed(ec))
    kind = HttpError::Kind::closed;
  throw HttpError(kind, std::string(stage) + " " + url.host + ":" + url.port + ": " + ec.message());
}

}  // namespace

Url Url::parse(std::string_view text) {
  Url u;
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) throw std::invalid_argument("not a URL");
  u.scheme = lower(text.substr(0, scheme_end));
  if (u.scheme != "https" && u.scheme != "wss") {
    throw std::invalid_argument("only https:// and wss:// URLs are allowed");
  }
  auto rest = text.substr(scheme_end + 3);
  const auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target = "/" + u.target;
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    throw std::invalid_argument("URL has no usable host");
  }
  if (authority.front() == '[') {  // [::1]:8443
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("bad IPv6 host");
    u.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    u.port = after.size() > 1 && after[0] == ':' ? std::string(after.substr(1)) : "443";
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    u.port = colon == std::string_view::npos ? "443" : std::string(authority.substr(colon + 1));
  }
  u.host = lower(u.host);
  if (u.host.empty() || u.port.empty()) throw std::invalid_argument("URL has no usable host");
  return u;
}

std::string Response::header(std::string_view name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

std::shared_ptr<ssl::context> make_tls_context(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx->set_default_verify_paths();
  if (!ca_file.empty()) {
    boost::system::error_code ec;
    ctx->load_verify_file(ca_file, ec);
    if (ec) throw HttpError(HttpError::Kind::tls, "cannot load CA file " + ca_file);
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

struct Connection {
  asio::io_context ioc;
  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;  // when it went back to the pool
  explicit Connection(ssl::context& ctx) : stream(ioc, ctx) {}

  // An idle HTTP/1.1 connection has no answer outstanding, so anything the server sent on
  // it since (a TLS close_notify, a FIN, a reset) means it closed the connection.
  bool closed_by_peer() {
    if (buffer.size() > 0) return true;
    pollfd p{beast::get_lowest_layer(stream).socket().native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }

  // Runs one coroutine on this connection's own io_context to completion.
  template <class Awaitable>
  void run(Awaitable&& a) {
    std::exception_ptr error;
    asio::co_spawn(ioc, std::forward<Awaitable>(a), [&](std::exception_ptr e) { error = e; });
    ioc.restart();
    ioc.run();
    if (error) std::rethrow_exception(error);
  }
};

struct Client::Impl {
  std::shared_ptr<ssl::context> tls;
  std::mutex mu;
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle;  // host:port -> conns
};

Client::Client(ClientOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  impl_->tls = make_tls_context(options_.ca_file);
}

Client::~Client() = default;

namespace {

asio::awaitable<void> open(Connection& c, const Url& url, const ClientOptions& o) {
  tcp::resolver resolver(c.ioc);
  auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kAwait);
  if (rec) fail(HttpError::Kind::resolve, rec, "resolve", url);
  auto& tcp_layer = beast::get_lowest_layer(c.stream);
  tcp_layer.expires_after(o.connect_timeout);
  auto [cec, ep] = co_await tcp_layer.async_connect(results, kAwait);
  if (cec) fail(HttpError::Kind::connect, cec, "connect", url);
  (void)ep;
  if (!is_ip_literal(url.host)) {
    if (!SSL_set_tlsext_host_name(c.stream.native_handle(), url.host.c_str())) {
      throw HttpError(HttpError::Kind::tls, "cannot set SNI for " + url.host);
    }
  }
  c.stream.set_verify_callback(ssl::host_name_verification(url.host));
  tcp_layer.expires_after(o.handshake_timeout);
  auto [hec] = co_await c.stream.async_handshake(ssl::stream_base::client, kAwait);
  if (hec) fail(HttpError::Kind::tls, hec, "TLS handshake with", url);
}

bool idempotent(bhttp::verb v) {
  return v == bhttp::verb::get || v == bhttp::verb::head || v == bhttp::verb::put ||
         v == bhttp::verb::delete_ || v == bhttp::verb::options;
}

// Sends one request and reads the answer. `retryable` tells the caller the connection was
// closed under a request that sending again on a fresh connection cannot duplicate: the
// request never went out whole, or it is idempotent and no answer byte arrived.
asio::awaitable<void> exchange(Connection& c, const Url& url,
                               const bhttp::request<bhttp::string_body>& req,
                               const ClientOptions& o, Response& out, bool& retryable) {
  auto& tcp_layer = beast::get_lowest_layer(c.stream);
  tcp_layer.expires_after(o.io_timeout);
  auto [wec, n] = co_await bhttp::async_write(c.stream, req, kAwait);
  (void)n;
  if (wec) {
    retryable = is_closed(wec);
    fail(HttpError::Kind::protocol, wec, "write to", url);
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(o.body_limit);
  tcp_layer.expires_after(o.io_timeout);
  auto [rec, m] = co_await bhttp::async_read(c.stream, c.buffer, parser, kAwait);
  (void)m;
  if (rec) {
    retryable = is_closed(rec) && !parser.got_some() && idempotent(req.method());
    fail(HttpError::Kind::protocol, rec, "read from", url);
  }
  auto res = parser.release();
  out.status = res.result_int();
  for (const auto& f : res)
    out.headers[lower(f.name_string())] = std::string(f.value());
  out.body = std::move(res.body());
  out.headers["connection"] = res.keep_alive() ? "keep-alive" : "close";
}

}  // namespace

Response Client::send(const Request& request) {
  const Url url = Url::parse(request.url);
  const std::string pool_key = url.host + ":" + url.port;

  bhttp::request<bhttp::string_body> req{request.method, url.target, 11};
  req.set(bhttp::field::host, url.port == "443" ? url.host : url.host + ":" + url.port);
  req.set(bhttp::field::user_agent, options_.user_agent);
  if (!request.bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + request.bearer);
  for (const auto& [k, v] : request.headers)
    req.set(k, v);
  req.body() = request.body;
  req.keep_alive(true);
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn;
    if (attempt == 0) {
      std::lock_guard lock(impl_->mu);
      auto& q = impl_->idle[pool_key];
      while (!conn && !q.empty()) {
        conn = std::move(q.back());
        q.pop_back();
        // Idle too long to trust, or already closed by the server's idle timeout.
        if (std::chrono::steady_clock::now() - conn->idle_since > options_.max_idle ||
            conn->closed_by_peer()) {
          conn.reset();
        }
      }
    }
    const bool reused = conn != nullptr;
    if (!conn) {
      conn = std::make_unique<Connection>(*impl_->tls);
      conn->run(open(*conn, url, options_));
    }
    Response out;
    bool retryable = false;
    try {
      conn->run(exchange(*conn, url, req, options_, out, retryable));
    } catch (const HttpError&) {
      if (reused && retryable) continue;  // closed just as it was reused
      throw;
    }
    if (out.headers["connection"] == "keep-alive") {
      std::lock_guard lock(impl_->mu);
      auto& q = impl_->idle[pool_key];
      if (q.size() < options_.max_idle_per_host) {
        conn->idle_since = std::chrono::steady_clock::now();
        q.push_back(std::move(conn));
      }
    }
    return out;
  }
  throw HttpError(HttpError::Kind::closed, "connection to " + pool_key + " closed");
}

}  // namespace auditbot::http
