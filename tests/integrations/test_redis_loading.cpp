// A Redis restarted with a large AOF answers -LOADING until it has read it: the client waits
// and retries (nothing ran), instead of handing the error to the outbox or the scheduler.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "integrations/redis/redis_client.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

// A loopback server speaking just enough RESP: the first `loading` commands get -LOADING,
// later ones `answer`. One command per read (the client sends one at a time).
class LoadingRedis {
 public:
  LoadingRedis(int loading, std::string answer) : loading_(loading), answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoadingRedis() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int commands() const { return commands_.load(); }

 private:
  void serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (!stop_) {
        const auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        const int i = ++commands_;
        const std::string reply =
            i <= loading_ ? "-LOADING Redis is loading the dataset in memory\r\n" : answer_;
        if (::send(c, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) break;
      }
      ::close(c);
    }
  }
  int loading_;
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> commands_{0};
  std::thread thread_;
};

redis::Options options(int port) {
  redis::Options o;
  o.port = port;
  o.backoff_min = 5ms;
  o.backoff_max = 20ms;
  return o;
}

TEST(RedisLoading, CommandsWaitUntilTheDatasetIsLoaded) {
  LoadingRedis server(3, "+PONG\r\n");
  redis::Client client(options(server.port()));
  const redis::Reply r = client.command({"PING"});
  EXPECT_EQ(r.type, redis::Reply::Type::status);
  EXPECT_EQ(r.str, "PONG");
  EXPECT_EQ(server.commands(), 4);
}

TEST(RedisLoading, ScriptsWaitToo) {
  LoadingRedis server(2, ":7\r\n");
  redis::Client client(options(server.port()));
  const redis::Reply r = client.eval(redis::Script("return 7"), {"k"}, {});
  EXPECT_EQ(r.type, redis::Reply::Type::integer);
  EXPECT_EQ(r.integer, 7);
}

TEST(RedisLoading, GivesUpAfterTheLoadingTimeoutWithTheReply) {
  LoadingRedis server(1'000'000, "+PONG\r\n");
  auto o = options(server.port());
  o.loading_timeout = 100ms;
  redis::Client client(o);
  const redis::Reply r = client.command({"GET", "k"});
  EXPECT_EQ(r.type, redis::Reply::Type::error);
  EXPECT_EQ(r.str.rfind("LOADING", 0), 0u);
  EXPECT_GT(server.commands(), 1);
}

TEST(RedisLoading, OtherErrorsAreNotRetried) {
  LoadingRedis server(0, "-ERR wrong kind of value\r\n");
  redis::Client client(options(server.port()));
  const redis::Reply r = client.command({"GET", "k"});
  EXPECT_EQ(r.type, redis::Reply::Type::error);
  EXPECT_EQ(server.commands(), 1);
}

}  // namespace
}  // namespace auditbot
