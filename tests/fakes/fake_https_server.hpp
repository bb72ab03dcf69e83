// A scripted HTTPS + WebSocket-over-TLS server on loopback for tests (certificates from
// TestCa): records every request, answers from a handler, injects faults on demand.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace auditbot::test {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query
  std::string path;                            // without the query
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::size_t connection = 0;  // which accepted connection carried it (1, 2, ...)
  std::string header(const std::string& lower_name) const;
};

struct FakeResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json; charset=utf-8";
  bool drop = false;                   // close the connection without answering
  std::chrono::milliseconds delay{0};  // answer late (slow response)
  bool close_after = false;            // answer as keep-alive, then close (a server's idle timeout)

  static FakeResponse json(std::string body) {
    FakeResponse r;
    r.body = std::move(body);
    return r;
  }
  static FakeResponse status_only(unsigned status) {
    FakeResponse r;
    r.status = status;
    return r;
  }
  static FakeResponse rate_limited(int retry_after_seconds);  // 429 + Retry-After
  static FakeResponse dropped() {
    FakeResponse r;
    r.drop = true;
    return r;
  }
};

// One accepted WebSocket connection, as the server sees it.
class FakeWsConnection {
 public:
  virtual ~FakeWsConnection() = default;
  virtual void send(const std::string& text) = 0;  // thread-safe
  virtual void close() = 0;                        // closes from the server side
  virtual void drop() = 0;  // drops the TCP connection without a close frame (a lost link)
  // Waits up to `timeout` for the next text frame from the client.
  virtual std::optional<std::string> next(std::chrono::milliseconds timeout) = 0;
  virtual bool closed() const = 0;
  virtual std::string target() const = 0;
};

class FakeHttpsServer {
 public:
  using Handler = std::function<FakeResponse(const RecordedRequest&)>;
  explicit FakeHttpsServer(Handler handler);
  ~FakeHttpsServer();
  FakeHttpsServer(const FakeHttpsServer&) = delete;
  FakeHttpsServer& operator=(const FakeHttpsServer&) = delete;

  unsigned short port() const;
  std::string base_url() const;  // "https://127.0.0.1:<port>"

  // Faults: the next requests (to `path`, or to any path when empty) get these answers
  // instead of the handler's, in order.
  void inject(FakeResponse r, const std::string& path = "");
  std::vector<RecordedRequest> requests() const;
  std::vector<RecordedRequest> requests_to(const std::string& path) const;
  // Waits until `n` requests to `path` were recorded; false on timeout.
  bool wait_for(const std::string& path, std::size_t n, std::chrono::milliseconds timeout) const;

  // WebSocket: upgrade requests are accepted; waits for the next accepted connection.
  std::shared_ptr<FakeWsConnection> next_ws(std::chrono::milliseconds timeout);
  std::size_t ws_accepted() const;
  // The next accepted WebSocket is never read from: no pongs, no client frames recorded
  // (a peer that went silent, for idle-timeout tests). Sending to it still works.
  void mute_next_ws();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace auditbot::test
