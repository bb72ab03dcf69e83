// A small HTTPS client (Beast over OpenSSL) shared by the Slack and Teams integrations:
// keep-alive per host, certificate and host-name verification always on, typed errors.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace auditbot::http {

struct Url {
  std::string scheme;  // "https" (or "wss")
  std::string host;
  std::string port;    // "443" when absent
  std::string target;  // path and query, at least "/"
  // Throws std::invalid_argument for anything that is not https:// or wss://.
  static Url parse(std::string_view text);
};

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string bearer;  // sent as "Authorization: Bearer <bearer>" when not empty
};

struct Response {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(std::string_view name) const;  // "" when absent; name case-insensitive
};

struct ClientOptions {
  std::string ca_file;  // extra trusted CAs (PEM) on top of the system store
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds io_timeout{15000};  // per write and per response read
  std::size_t body_limit = 8 << 20;
  std::size_t max_idle_per_host = 4;
  // A pooled connection idle longer than this is closed instead of reused: load balancers and
  // NATs drop idle connections without a word, and a POST on one could not be sent again.
  std::chrono::milliseconds max_idle{30'000};
  std::string user_agent = "auditbot/0.1";
};

// Transport failures; HTTP error statuses are Responses, not errors.
class HttpError : public std::runtime_error {
 public:
  enum class Kind { resolve, connect, tls, timeout, closed, protocol };
  HttpError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Thread-safe. Reuses an idle connection to the host when the server has not closed it
  // meanwhile. When a reused connection turns out closed anyway, the request is sent again
  // on a fresh one only if the server cannot have acted on it: the write failed, or the
  // method is idempotent. A POST whose answer never came is an error (HttpError::closed),
  // so the caller decides whether sending it twice is safe.
  Response send(const Request& request);
  const ClientOptions& options() const { return options_; }

 private:
  struct Impl;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
};

// The TLS client context every outbound connection uses: system store + `ca_file`,
// peer verification on. Shared with the WebSocket client.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& ca_file);

}  // namespace auditbot::http
