// Socket Mode: one io thread owns the WebSockets, a supervisor thread keeps one healthy
// connection (replacing it before Slack closes it), a small pool runs the handlers.
#include "integrations/slack/socket_mode.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <optional>

#include "bot/log.hpp"
#include "integrations/http/https_client.hpp"

namespace auditbot::slack {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string str(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count());
}

}  // namespace

std::chrono::milliseconds reconnect_delay(int failures, std::chrono::milliseconds min,
                                          std::chrono::milliseconds max, std::mt19937& rng) {
  const std::int64_t lo = std::max<std::int64_t>(min.count() / 2, 0);
  const std::int64_t cap = std::max<std::int64_t>(
      lo, std::min<std::int64_t>(max.count(), min.count() << std::clamp(failures, 0, 20)));
  std::uniform_int_distribution<std::int64_t> d(lo, cap);
  return std::chrono::milliseconds(d(rng));
}

struct SocketMode::Impl : std::enable_shared_from_this<SocketMode::Impl> {
  struct Conn;

  Impl(WebApi& a, Handler h, SocketModeOptions opts)
      : api(a),
        handler(std::move(h)),
        o(std::move(opts)),
        tls(http::make_tls_context(o.ca_file)),
        work(asio::make_work_guard(ioc)) {}

  WebApi& api;
  Handler handler;
  SocketModeOptions o;
  std::shared_ptr<ssl::context> tls;  // outlives ioc: streams refer to it
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<asio::thread_pool> pool;
  std::thread io_thread;
  std::thread supervisor;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  Stats stats;
  std::vector<std::shared_ptr<Conn>> conns;  // open or opening
  int next_id = 0;

  // One WebSocket; lives on the io thread (flags under Impl::mu).
  struct Conn : std::enable_shared_from_this<Conn> {
    Conn(Impl& owner, int n) : impl(owner), id(n), ws(owner.ioc, *owner.tls) {}

    Impl& impl;
    const int id;
    websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws;
    beast::flat_buffer buffer;
    std::deque<std::string> out;                                        // io thread only
    bool writing = false;                                               // io thread only
    bool closing = false;                                               // io thread only
    bool open = false, hello = false, closed = false, refresh = false;  // under impl.mu
    std::string error;                                                  // under impl.mu

    void send(std::string text) {
      asio::post(ws.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
        if (self->closing) {
          return;
        }
        self->out.push_back(std::move(text));
        if (!self->writing) {
          self->write_next();
        }
      });
    }

    void write_next() {
      if (out.empty()) {
        writing = false;
        return;
      }
      writing = true;
      ws.text(true);
      ws.async_write(asio::buffer(out.front()),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->out.pop_front();
                       if (ec) {
                         self->out.clear();
                         self->writing = false;
                         return;
                       }
                       {
                         std::lock_guard lock(self->impl.mu);
                         ++self->impl.stats.acks;
                       }
                       self->write_next();
                     });
    }

    // A clean close (we are done with it); the read loop ends when Slack answers.
    void close() {
      asio::post(ws.get_executor(), [self = shared_from_this()] {
        if (self->closing) {
          return;
        }
        self->closing = true;
        if (!self->ws.is_open()) {
          beast::error_code ignored;
          beast::get_lowest_layer(self->ws).socket().close(ignored);
          return;
        }
        self->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
      });
    }

    // Drops the link at once (handshake or hello never finished).
    void abort() {
      asio::post(ws.get_executor(), [self = shared_from_this()] {
        self->closing = true;
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws).socket().close(ignored);
      });
    }

    asio::awaitable<void> run(http::Url url) {
      auto self = shared_from_this();
      std::string why = co_await connect(url);
      if (why.empty()) {
        {
          std::lock_guard lock(impl.mu);
          open = true;
          impl.cv.notify_all();
        }
        for (;;) {
          auto [ec, n] = co_await ws.async_read(buffer, kAwait);
          (void)n;
          if (ec) {
            why = closing                          ? "closed by us"
                  : ec == websocket::error::closed ? "closed by Slack"
                                                   : ec.message();
            break;
          }
          std::string text = beast::buffers_to_string(buffer.data());
          buffer.consume(buffer.size());
          impl.on_frame(self, text);
        }
      }
      impl.on_closed(self, why);
    }

    asio::awaitable<std::string> connect(const http::Url& url) {
      auto& tcp_layer = beast::get_lowest_layer(ws);
      tcp::resolver resolver(impl.ioc);
      auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kAwait);
      if (rec) {
        co_return "resolve: " + rec.message();
      }
      tcp_layer.expires_after(impl.o.connect_timeout);
      auto [cec, ep] = co_await tcp_layer.async_connect(results, kAwait);
      (void)ep;
      if (cec) {
        co_return "connect: " + cec.message();
      }
      if (!is_ip_literal(url.host) &&
          !SSL_set_tlsext_host_name(ws.next_layer().native_handle(), url.host.c_str())) {
        co_return "cannot set SNI";
      }
      // The certificate must name the host we asked for; verification is never off.
      ws.next_layer().set_verify_callback(ssl::host_name_verification(url.host));
      auto [hec] = co_await ws.next_layer().async_handshake(ssl::stream_base::client, kAwait);
      if (hec) {
        co_return "TLS handshake: " + hec.message();
      }
      tcp_layer.expires_never();
      websocket::stream_base::timeout t{};
      t.handshake_timeout = impl.o.connect_timeout;
      t.idle_timeout = impl.o.idle_timeout;
      t.keep_alive_pings = true;  // ping at half the idle timeout, give up at all of it
      ws.set_option(t);
      ws.read_message_max(impl.o.max_message);
      ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "auditbot/0.1");
      }));
      const std::string host_header = url.port == "443" ? url.host : url.host + ":" + url.port;
      auto [wec] = co_await ws.async_handshake(host_header, url.target, kAwait);
      if (wec) {
        co_return "WebSocket handshake: " + wec.message();
      }
      co_return "";
    }
  };

  void on_frame(const std::shared_ptr<Conn>& c, const std::string& text) {
    json m = json::parse(text, nullptr, false);
    if (!m.is_object()) {
      log::warn("slack.socket.bad_frame", {{"connection", std::to_string(c->id)}});
      return;
    }
    const std::string type = str(m, "type");
    if (type == "hello") {
      std::lock_guard lock(mu);
      if (!c->hello) {
        c->hello = true;
        ++stats.connects;
      }
      cv.notify_all();
      return;
    }
    if (type == "disconnect") {
      const std::string reason = str(m, "reason");
      if (reason == "link_disabled") {
        log::error("slack.socket.link_disabled", {{"connection", std::to_string(c->id)}});
      } else {
        log::info("slack.socket.disconnect",
                  {{"connection", std::to_string(c->id)}, {"reason", reason}});
      }
      {
        std::lock_guard lock(mu);
        c->refresh = true;
        ++stats.disconnects;
        cv.notify_all();
      }
      // Slack closes it itself shortly; if it does not, we do.
      auto timer = std::make_shared<asio::steady_timer>(ioc, o.drain_timeout);
      timer->async_wait([timer, c](beast::error_code ec) {
        if (!ec) {
          c->close();
        }
      });
      return;
    }
    const std::string envelope_id = str(m, "envelope_id");
    if (envelope_id.empty()) {
      log::debug("slack.socket.ignored", {{"type", type}});
      return;
    }
    {
      std::lock_guard lock(mu);
      // Shutting down: no ack, so Slack hands the envelope to another connection.
      if (stopping) {
        return;
      }
      ++stats.envelopes;
    }
    const bool accepts = m.value("accepts_response_payload", false);
    json payload = m.contains("payload") ? m["payload"] : json::object();
    asio::post(*pool, [this, c, type, envelope_id, accepts, payload = std::move(payload)] {
      json answer = nullptr;
      try {
        answer = handler(type, payload);
      } catch (const std::exception& e) {
        log::error("slack.socket.handler_failed", {{"type", type}, {"detail", e.what()}});
      }
      json ack = {{"envelope_id", envelope_id}};
      if (accepts && !answer.is_null()) {
        ack["payload"] = std::move(answer);
      }
      c->send(ack.dump());
    });
  }

  void on_closed(const std::shared_ptr<Conn>& c, const std::string& why) {
    std::lock_guard lock(mu);
    c->closed = true;
    c->error = why;
    std::erase(conns, c);
    if (c->hello) {
      log::info("slack.socket.closed", {{"connection", std::to_string(c->id)}, {"reason", why}});
    }
    cv.notify_all();
  }

  // apps.connections.open, then the WebSocket, then `hello`; throws on any failure.
  std::shared_ptr<Conn> open_one() {
    const json r = api.call_with_token("apps.connections.open", json::object(), o.app_token);
    std::string url = str(r, "url");
    if (url.empty()) {
      throw ApiError("apps.connections.open", "no_url");
    }
    if (o.debug_reconnects) {
      url += (url.find('?') == std::string::npos ? "?" : "&");
    }
    if (o.debug_reconnects) {
      url += "debug_reconnects=true";
    }
    const auto parsed = http::Url::parse(url);  // wss:// only
    std::shared_ptr<Conn> c;
    {
      std::lock_guard lock(mu);
      if (stopping) {
        throw std::runtime_error("stopping");
      }
      c = std::make_shared<Conn>(*this, ++next_id);
      conns.push_back(c);
    }
    asio::co_spawn(ioc, c->run(parsed), asio::detached);
    std::unique_lock lock(mu);
    cv.wait_for(lock, o.connect_timeout, [&] { return c->open || c->closed || stopping; });
    if (c->open) {
      cv.wait_for(lock, o.hello_timeout, [&] { return c->hello || c->closed || stopping; });
    }
    if (c->hello && !c->closed) {
      return c;
    }
    const std::string why = c->closed  ? c->error
                            : stopping ? "stopping"
                            : !c->open ? "no connection in time"
                                       : "no hello in time";
    lock.unlock();
    c->abort();
    throw std::runtime_error(why + " (" + parsed.host + ")");
  }

  void supervise() {
    std::mt19937 rng{std::random_device{}()};
    int failures = 0;
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (stopping) {
          return;
        }
      }
      std::shared_ptr<Conn> c;
      std::string why;
      try {
        c = open_one();
      } catch (const std::exception& e) {
        why = e.what();
      }
      std::unique_lock lock(mu);
      if (!c) {
        if (stopping) {
          return;
        }
        ++failures;
        ++stats.failures;
        const auto d = reconnect_delay(failures, o.backoff_min, o.backoff_max, rng);
        log::warn("slack.socket.connect_failed", {{"detail", why}, {"retry_in_ms", ms(d)}});
        cv.wait_for(lock, d, [&] { return stopping; });
        continue;
      }
      failures = 0;
      log::info("slack.socket.connected", {{"connection", std::to_string(c->id)}});
      cv.wait(lock, [&] { return stopping || c->closed || c->refresh; });
      if (stopping) {
        return;
      }
      // Asked to refresh: open the successor now; the old one drains until it closes.
      if (c->refresh && !c->closed) {
        continue;
      }
      const auto d = reconnect_delay(0, o.backoff_min, o.backoff_max, rng);
      log::warn(
          "slack.socket.dropped",
          {{"connection", std::to_string(c->id)}, {"reason", c->error}, {"retry_in_ms", ms(d)}});
      cv.wait_for(lock, d, [&] { return stopping; });
    }
  }
};

SocketMode::SocketMode(WebApi& api, Handler handler, SocketModeOptions options)
    : impl_(std::make_shared<Impl>(api, std::move(handler), std::move(options))) {}

SocketMode::~SocketMode() {
  stop();
}

void SocketMode::start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started) {
    return;
  }
  impl_->started = true;
  impl_->pool =
      std::make_unique<asio::thread_pool>(std::max<std::size_t>(1, impl_->o.handler_threads));
  impl_->io_thread = std::thread([impl = impl_] { impl->ioc.run(); });
  impl_->supervisor = std::thread([impl = impl_] { impl->supervise(); });
}

void SocketMode::stop() {
  auto& i = *impl_;
  {
    std::lock_guard lock(i.mu);
    if (!i.started || i.stopping) {
      return;
    }
    i.stopping = true;
    i.cv.notify_all();
  }
  if (i.supervisor.joinable()) {
    i.supervisor.join();
  }
  i.pool->join();  // acks of envelopes in flight still go out
  std::vector<std::shared_ptr<Impl::Conn>> open;
  {
    std::lock_guard lock(i.mu);
    open = i.conns;
  }
  for (auto& c : open) {
    c->close();
  }
  {
    // Wait briefly for Slack to confirm the closes, then tear down whatever is left.
    std::unique_lock lock(i.mu);
    i.cv.wait_for(lock, std::chrono::seconds(2), [&] { return i.conns.empty(); });
  }
  i.work.reset();
  i.ioc.stop();
  if (i.io_thread.joinable()) {
    i.io_thread.join();
  }
}

SocketMode::Stats SocketMode::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

bool SocketMode::wait_for_connects(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->stats.connects >= n; });
}

}  // namespace auditbot::slack
