// Starts and stops a private redis-server for one test (posix_spawn, SIGTERM/SIGKILL).
#include "tests/support/redis_server.hpp"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace auditbot::test {

namespace {

using namespace std::chrono_literals;

bool answers_pong(int port) {
  timeval tv{0, 200000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (!c) {
    return false;
  }
  bool ok = false;
  if (!c->err) {
    redisSetTimeout(c, tv);
    auto* r = static_cast<redisReply*>(redisCommand(c, "PING"));
    // A loading server answers -LOADING; wait until it really serves.
    ok = r && r->type == REDIS_REPLY_STATUS && std::string(r->str, r->len) == "PONG";
    if (r) {
      freeReplyObject(r);
    }
  }
  redisFree(c);
  return ok;
}

std::string tail_of(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// Waits for `pid` to exit for up to `limit`; true when it was reaped.
bool wait_for_exit(int pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
}

}  // namespace

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    throw std::runtime_error("socket() failed");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind(127.0.0.1:0) failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("auditbot-" + tag + "-XXXXXX"));
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) {
    throw std::runtime_error("mkdtemp failed for " + tmpl);
  }
  return std::string(buf.data());
}

RedisServer::RedisServer() : RedisServer(Options{}) {}

RedisServer::RedisServer(Options options) : options_(options) {
  dir_ = make_temp_dir("redis");
  // Another process can take the port between probe and bind: try a few fresh ones.
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_loopback_port();
    try {
      launch();
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  throw std::runtime_error("could not start redis-server: " + last_error);
}

RedisServer::~RedisServer() {
  try {
    stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string RedisServer::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

redis::Options RedisServer::client_options() const {
  redis::Options o;
  o.host = "127.0.0.1";
  o.port = port_;
  o.connect_timeout = std::chrono::milliseconds(1000);
  o.backoff_min = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(100);
  return o;
}

void RedisServer::launch() {
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   options_.appendonly ? "yes" : "no",
                                   "--appendfsync",
                                   "always",
                                   "--daemonize",
                                   "no",
                                   "--protected-mode",
                                   "no",
                                   "--logfile",
                                   dir_ + "/redis.log"};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    throw std::runtime_error(std::string("posix_spawnp: ") + std::strerror(rc));
  }
  pid_ = pid;

  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("redis-server exited at start-up on port " + std::to_string(port_) +
                               ": " + tail_of(dir_ + "/redis.log"));
    }
    if (answers_pong(port_)) {
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, 5s);
  pid_ = -1;
  throw std::runtime_error("redis-server did not answer PING within 5 s: " +
                           tail_of(dir_ + "/redis.log"));
}

void RedisServer::stop() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGTERM);
  if (!wait_for_exit(pid_, 5s)) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, 5s);
  }
  pid_ = -1;
}

void RedisServer::kill() {
  if (pid_ <= 0) {
    return;
  }
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, 5s);
  pid_ = -1;
}

void RedisServer::restart() {
  stop();
  launch();
}

}  // namespace auditbot::test
