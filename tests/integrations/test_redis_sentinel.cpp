// Sentinel mode: the client asks the sentinels where the master is, and follows a failover.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "integrations/redis/redis_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::test {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<BackgroundProcess> start_redis(const std::string& dir, int port,
                                               std::vector<std::string> extra) {
  std::vector<std::string> args{"/usr/bin/redis-server",
                                "--port",
                                std::to_string(port),
                                "--bind",
                                "127.0.0.1",
                                "--dir",
                                dir,
                                "--save",
                                "",
                                "--appendonly",
                                "no"};
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<BackgroundProcess>(args, std::map<std::string, std::string>{},
                                             dir + "/" + std::to_string(port) + ".log");
}

bool answers(int port) {
  redis::Options o;
  o.port = port;
  o.max_attempts = 1;
  o.pool_size = 1;
  try {
    return redis::Client(o).ping();
  } catch (const std::exception&) {
    return false;
  }
}

void wait_until(const std::function<bool()>& ok, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!ok() && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(50ms);
}

TEST(RedisSentinel, ClientFindsTheMasterAndFollowsAFailover) {
  const std::string dir = make_temp_dir("sentinel");
  const int master_port = free_loopback_port();
  const int replica_port = free_loopback_port();
  const int sentinel_port = free_loopback_port();
  auto master = start_redis(dir, master_port, {});
  auto replica =
      start_redis(dir, replica_port, {"--replicaof", "127.0.0.1", std::to_string(master_port)});
  wait_until([&] { return answers(master_port) && answers(replica_port); }, 5s);
  write_file(dir + "/sentinel.conf", "port " + std::to_string(sentinel_port) +
                                         "\nbind 127.0.0.1\n"
                                         "sentinel monitor main 127.0.0.1 " +
                                         std::to_string(master_port) +
                                         " 1\n"
                                         "sentinel down-after-milliseconds main 1000\n"
                                         "sentinel failover-timeout main 5000\n");
  BackgroundProcess sentinel({"/usr/bin/redis-server", dir + "/sentinel.conf", "--sentinel"}, {},
                             dir + "/sentinel.log");
  wait_until([&] { return answers(sentinel_port); }, 5s);

  redis::Options o;
  o.host = "127.0.0.1";
  o.port = 1;  // never used: the sentinel says where the master is
  o.sentinels = {"127.0.0.1:" + std::to_string(sentinel_port)};
  o.master_name = "main";
  o.pool_size = 1;
  redis::Client client(o);
  ASSERT_EQ(client.command({"SET", "k", "before"}).as_string(), "OK");
  // The write reached the real master.
  redis::Options direct;
  direct.port = master_port;
  EXPECT_EQ(redis::Client(direct).command({"GET", "k"}).as_string(), "before");

  // Wait for the replica to be in sync and known to the sentinel, then fail over.
  redis::Options sopt;
  sopt.port = sentinel_port;
  redis::Client sentinel_client(sopt);
  wait_until(
      [&] {
        auto r = sentinel_client.command({"SENTINEL", "replicas", "main"});
        return r.type == redis::Reply::Type::array && !r.elements.empty();
      },
      10s);
  // Until the sentinel has seen the replica in sync it answers NOGOODREPLICA: try again.
  redis::Reply failover;
  wait_until(
      [&] {
        failover = sentinel_client.command({"SENTINEL", "failover", "main"});
        return failover.type == redis::Reply::Type::status;
      },
      20s);
  ASSERT_EQ(failover.type, redis::Reply::Type::status) << failover.str;
  wait_until(
      [&] {
        auto r = sentinel_client.command({"SENTINEL", "get-master-addr-by-name", "main"});
        return r.elements.size() == 2 && r.elements[1].str == std::to_string(replica_port);
      },
      15s);
  master->signal(SIGKILL);
  master->wait();

  // The pooled connection is dead; the next call asks the sentinel again.
  bool written = false;
  for (int i = 0; i < 100 && !written; ++i) {
    try {
      written = client.command({"SET", "k", "after"}).type == redis::Reply::Type::status;
    } catch (const redis::IoError&) {
      std::this_thread::sleep_for(100ms);
    }
  }
  ASSERT_TRUE(written);
  redis::Options new_master;
  new_master.port = replica_port;
  EXPECT_EQ(redis::Client(new_master).command({"GET", "k"}).as_string(), "after");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace auditbot::test
