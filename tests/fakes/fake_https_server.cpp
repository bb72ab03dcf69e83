// The fake server: one io_context thread, one coroutine per connection; WebSocket
// upgrades become FakeWsConnection objects the test drives.
#include "tests/fakes/fake_https_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <thread>

#include "tests/fakes/test_ca.hpp"

namespace auditbot::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

class WsConn final : public FakeWsConnection, public std::enable_shared_from_this<WsConn> {
 public:
  WsConn(TlsStream stream, std::string target)
      : ws_(std::move(stream)), target_(std::move(target)) {}

  websocket::stream<TlsStream>& ws() { return ws_; }

  void send(const std::string& text) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), text] {
      self->out_.push_back(text);
      if (!self->writing_) self->write_next();
    });
  }
  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->ws_.async_close(websocket::close_code::normal,
                            [self](beast::error_code) { self->mark_closed(); });
    });
  }
  void drop() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
      self->mark_closed();
    });
  }
  std::optional<std::string> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !in_.empty() || closed_; });
    if (in_.empty()) return std::nullopt;
    auto s = std::move(in_.front());
    in_.pop_front();
    return s;
  }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  std::string target() const override { return target_; }

  void received(std::string s) {
    std::lock_guard lock(mu_);
    in_.push_back(std::move(s));
    cv_.notify_all();
  }
  void mark_closed() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  void write_next() {
    if (out_.empty()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(out_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->out_.pop_front();
                      if (ec) {
                        self->out_.clear();
                        self->writing_ = false;
                        return;
                      }
                      self->write_next();
                    });
  }

  websocket::stream<TlsStream> ws_;
  std::string target_;
  std::deque<std::string> out_;  // touched only on the io thread
  bool writing_ = false;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> in_;
  bool closed_ = false;
};

}  // namespace

std::string RecordedRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

FakeResponse FakeResponse::rate_limited(int retry_after_seconds) {
  FakeResponse r;
  r.status = 429;
  r.headers.push_back({"Retry-After", std::to_string(retry_after_seconds)});
  r.body = R"({"ok":false,"error":"ratelimited"})";
  return r;
}

struct FakeHttpsServer::Impl : std::enable_shared_from_this<FakeHttpsServer::Impl> {
  asio::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  Handler handler;
  std::thread thread;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::vector<RecordedRequest> recorded;
  std::deque<std::pair<std::string, FakeResponse>> faults;  // (path or "", answer)
  std::deque<std::shared_ptr<WsConn>> new_ws;
  std::size_t ws_count = 0;
  std::size_t connections = 0;
  bool mute_next = false;
  std::vector<std::shared_ptr<WsConn>> muted;  // kept open, never read

  FakeResponse answer(const RecordedRequest& r) {
    {
      std::lock_guard lock(mu);
      recorded.push_back(r);
      cv.notify_all();
      for (auto it = faults.begin(); it != faults.end(); ++it) {
        if (it->first.empty() || it->first == r.path) {
          auto f = std::move(it->second);
          faults.erase(it);
          return f;
        }
      }
    }
    return handler ? handler(r) : FakeResponse::status_only(404);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(kAwait);
      if (ec) co_return;
      asio::co_spawn(ioc, session(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> session(tcp::socket sock) {
    auto self = shared_from_this();
    std::size_t connection = 0;
    {
      std::lock_guard lock(mu);
      connection = ++connections;
    }
    TlsStream stream(std::move(sock), tls);
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kAwait);
    if (hec) co_return;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 << 20);
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(30));
      auto [rec, n] = co_await http::async_read(stream, buffer, parser, kAwait);
      (void)n;
      if (rec) co_return;
      auto req = parser.release();
      RecordedRequest r;
      r.method = std::string(req.method_string());
      r.target = std::string(req.target());
      r.path = r.target.substr(0, r.target.find('?'));
      for (const auto& f : req)
        r.headers[lower(f.name_string())] = std::string(f.value());
      r.body = req.body();
      r.connection = connection;

      if (websocket::is_upgrade(req)) {
        {
          std::lock_guard lock(mu);
          recorded.push_back(r);
          cv.notify_all();
        }
        beast::get_lowest_layer(stream).expires_never();
        auto conn = std::make_shared<WsConn>(std::move(stream), r.target);
        auto [aec] = co_await conn->ws().async_accept(req, kAwait);
        if (aec) co_return;
        bool mute = false;
        {
          std::lock_guard lock(mu);
          new_ws.push_back(conn);
          ++ws_count;
          mute = std::exchange(mute_next, false);
          if (mute) muted.push_back(conn);
          cv.notify_all();
        }
        if (mute) co_return;
        beast::flat_buffer wbuf;
        for (;;) {
          auto [wec, wn] = co_await conn->ws().async_read(wbuf, kAwait);
          (void)wn;
          if (wec) break;
          conn->received(beast::buffers_to_string(wbuf.data()));
          wbuf.consume(wbuf.size());
        }
        conn->mark_closed();
        co_return;
      }

      FakeResponse a = answer(r);
      if (a.delay.count() > 0) {
        asio::steady_timer t(ioc, a.delay);
        co_await t.async_wait(kAwait);
      }
      if (a.drop) {
        beast::get_lowest_layer(stream).socket().close();
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(a.status), req.version()};
      res.set(http::field::content_type, a.content_type);
      for (const auto& [k, v] : a.headers)
        res.set(k, v);
      res.body() = a.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(stream, res, kAwait);
      (void)wn;
      if (wec || !res.keep_alive()) co_return;
      if (a.close_after) {
        beast::get_lowest_layer(stream).socket().close();
        co_return;
      }
    }
  }
};

FakeHttpsServer::FakeHttpsServer(Handler handler) : impl_(std::make_shared<Impl>()) {
  const auto& ca = TestCa::get();
  impl_->handler = std::move(handler);
  impl_->tls.use_certificate_chain_file(ca.cert_file);
  impl_->tls.use_private_key_file(ca.key_file, ssl::context::pem);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_] { impl->ioc.run(); });
}

FakeHttpsServer::~FakeHttpsServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

unsigned short FakeHttpsServer::port() const {
  return impl_->acceptor.local_endpoint().port();
}

std::string FakeHttpsServer::base_url() const {
  return "https://127.0.0.1:" + std::to_string(port());
}

void FakeHttpsServer::inject(FakeResponse r, const std::string& path) {
  std::lock_guard lock(impl_->mu);
  impl_->faults.emplace_back(path, std::move(r));
}

std::vector<RecordedRequest> FakeHttpsServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::vector<RecordedRequest> FakeHttpsServer::requests_to(const std::string& path) const {
  std::lock_guard lock(impl_->mu);
  std::vector<RecordedRequest> out;
  for (const auto& r : impl_->recorded)
    if (r.path == path) out.push_back(r);
  return out;
}

bool FakeHttpsServer::wait_for(const std::string& path, std::size_t n,
                               std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] {
    std::size_t c = 0;
    for (const auto& r : impl_->recorded)
      if (r.path == path) ++c;
    return c >= n;
  });
}

std::shared_ptr<FakeWsConnection> FakeHttpsServer::next_ws(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->new_ws.empty(); })) return nullptr;
  auto c = impl_->new_ws.front();
  impl_->new_ws.pop_front();
  return c;
}

void FakeHttpsServer::mute_next_ws() {
  std::lock_guard lock(impl_->mu);
  impl_->mute_next = true;
}

std::size_t FakeHttpsServer::ws_accepted() const {
  std::lock_guard lock(impl_->mu);
  return impl_->ws_count;
}

}  // namespace auditbot::test
