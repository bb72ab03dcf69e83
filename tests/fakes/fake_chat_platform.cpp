// Plain blocking sockets, one request per connection: enough for thousands of sends a test.
#include "tests/fakes/fake_chat_platform.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace auditbot::test {

namespace {

struct Http {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

// Reads one whole request/response (headers + Content-Length body).
bool read_message(int fd, std::string& head, std::string& body) {
  std::string buf;
  char tmp[4096];
  std::size_t header_end = std::string::npos;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
  }
  head = buf.substr(0, header_end);
  body = buf.substr(header_end + 4);
  std::size_t len = 0;
  const auto pos = head.find("Content-Length: ");
  if (pos != std::string::npos) len = std::stoul(head.substr(pos + 16));
  while (body.size() < len) {
    const ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    body.append(tmp, static_cast<std::size_t>(n));
  }
  return true;
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string response(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

// One request to 127.0.0.1:port; throws std::runtime_error on connection problems.
Http request(int port, const std::string& method, const std::string& target,
             const std::string& body) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    throw std::runtime_error("connection refused");
  }
  write_all(fd, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  std::string head, rbody;
  const bool ok = read_message(fd, head, rbody);
  ::close(fd);
  if (!ok) throw std::runtime_error("connection lost");
  Http h;
  h.status = std::stoi(head.substr(9, 3));
  const auto pos = head.find("Retry-After: ");
  if (pos != std::string::npos)
    h.headers["retry-after"] = head.substr(pos + 13, head.find("\r\n", pos) - pos - 13);
  h.body = rbody;
  return h;
}

}  // namespace

FakeChatPlatform::FakeChatPlatform(int throttle_every, int retry_after_seconds)
    : throttle_every_(throttle_every), retry_after_(retry_after_seconds) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("fake platform: cannot listen");
  }
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeChatPlatform::~FakeChatPlatform() {
  stop_.store(true);
  ::shutdown(listen_fd_, SHUT_RDWR);
  ::close(listen_fd_);
  thread_.join();
}

void FakeChatPlatform::serve() {
  while (!stop_.load()) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void FakeChatPlatform::handle(int fd) {
  std::string head, body;
  if (!read_message(fd, head, body)) return;
  if (head.rfind("POST /send", 0) == 0) {
    const long n = ++sends_;
    if (throttle_every_ > 0 && n % throttle_every_ == 0) {
      ++throttled_;
      write_all(fd, response(429, "{\"ok\":false,\"error\":\"ratelimited\"}",
                             "Retry-After: " + std::to_string(retry_after_) + "\r\n"));
      return;
    }
    const auto j = nlohmann::json::parse(body, nullptr, false);
    const std::string id = j.is_object() ? j.value("outbox_id", "") : "";
    std::string ts;
    {
      std::lock_guard<std::mutex> l(mu_);
      ++accepted_[id];
      ts = "M" + std::to_string(n);
      ts_[id] = ts;
    }
    write_all(fd, response(200, "{\"ok\":true,\"ts\":\"" + ts + "\"}"));
  } else if (head.rfind("GET /lookup?outbox_id=", 0) == 0) {
    const std::string id = head.substr(22, head.find(' ', 22) - 22);
    std::lock_guard<std::mutex> l(mu_);
    auto it = ts_.find(id);
    write_all(fd, it == ts_.end() ? response(404, "") : response(200, it->second));
  } else {
    write_all(fd, response(404, ""));
  }
}

std::map<std::string, int> FakeChatPlatform::accepted() {
  std::lock_guard<std::mutex> l(mu_);
  return accepted_;
}

std::size_t FakeChatPlatform::unique_accepted() {
  std::lock_guard<std::mutex> l(mu_);
  return accepted_.size();
}

DeliveryResult FakePlatformDeliverer::deliver(const OutboxEntry& e) {
  DeliveryResult r;
  Http h;
  try {
    h = request(
        port_, "POST", "/send",
        nlohmann::json{{"outbox_id", e.id}, {"to", e.message.to.id}, {"text", e.message.text}}
            .dump());
  } catch (const std::exception& ex) {
    r.status = DeliveryResult::Status::retry;
    r.detail = ex.what();
    return r;
  }
  if (h.status == 200) {
    if (crash_after_ > 0 && ++accepted_ == crash_after_) ::raise(SIGKILL);  // sent, not recorded
    r.platform_id = nlohmann::json::parse(h.body).value("ts", "");
    return r;
  }
  r.status = h.status == 429 || h.status >= 500 ? DeliveryResult::Status::retry
                                                : DeliveryResult::Status::failed;
  if (auto it = h.headers.find("retry-after"); it != h.headers.end()) {
    r.retry_after = std::chrono::seconds(std::stoi(it->second));
  }
  r.detail = "HTTP " + std::to_string(h.status);
  return r;
}

std::optional<std::string> FakePlatformDeliverer::find_delivered(const OutboxEntry& e) {
  const Http h = request(port_, "GET", "/lookup?outbox_id=" + e.id, "");
  if (h.status == 200) return h.body;
  return std::nullopt;
}

}  // namespace auditbot::test
