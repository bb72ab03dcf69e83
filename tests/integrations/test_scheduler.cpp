// The scheduler on real Redis: due jobs run once, future jobs wait, two replicas never run
// the same job, and a crashed replica's leased job is taken over when its lease expires.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "integrations/redis/job_queue.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

class SchedulerTest : public ::testing::Test {
 protected:
  test::RedisServer server;
  redis::Client client{server.client_options()};
  FakeClock clock{*parse_iso8601("2026-12-01T09:00:00Z")};
  Store store{client, "acme", clock};
  RedisJobQueue queue{store};
  TimePoint at(const char* iso) { return *parse_iso8601(iso); }
};

TEST_F(SchedulerTest, RunsDueJobsOnceAndLeavesFutureOnes) {
  Scheduler s(queue, "r1");
  std::vector<std::string> ran;
  s.register_kind("ping", [&](const Job& j, TimePoint) { ran.push_back(j.arg); });
  queue.schedule("ping:a", at("2026-12-01T08:00:00Z"));
  queue.schedule("ping:b", at("2026-12-01T09:00:00Z"));
  queue.schedule("ping:c", at("2026-12-01T10:00:00Z"));

  auto r = s.run_pass(at("2026-12-01T09:00:00Z"));
  EXPECT_EQ(r.done, 2u);
  EXPECT_EQ(ran, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.run_pass(at("2026-12-01T09:30:00Z")).claimed, 0u);
  s.run_pass(at("2026-12-01T10:00:00Z"));
  EXPECT_EQ(ran.back(), "c");
  EXPECT_EQ(queue.scheduled(), 0u);
  EXPECT_EQ(queue.leased(), 0u);
}

TEST_F(SchedulerTest, KeepEarlierDoesNotPostponeAJob) {
  queue.schedule("ping:a", at("2026-12-01T08:00:00Z"));
  queue.schedule("ping:a", at("2026-12-03T08:00:00Z"));  // later: ignored
  Scheduler s(queue, "r1");
  int n = 0;
  s.register_kind("ping", [&](const Job&, TimePoint) { ++n; });
  s.run_pass(at("2026-12-01T08:00:00Z"));
  EXPECT_EQ(n, 1);
}

TEST_F(SchedulerTest, TwoReplicasClaimEachJobExactlyOnce) {
  for (int i = 0; i < 500; ++i)
    queue.schedule("ping:" + std::to_string(i), at("2026-12-01T08:00:00Z"));
  std::mutex mu;
  std::multiset<std::string> ran;
  auto replica = [&](const std::string& name) {
    redis::Client c(server.client_options());
    Store st(c, "acme", clock);
    RedisJobQueue q(st);
    Scheduler s(q, name);
    s.register_kind("ping", [&](const Job& j, TimePoint) {
      std::lock_guard<std::mutex> l(mu);
      ran.insert(j.arg);
    });
    for (int k = 0; k < 20; ++k)
      s.run_pass(at("2026-12-01T09:00:00Z"), 7);
  };
  std::thread a(replica, "r1"), b(replica, "r2");
  a.join();
  b.join();
  EXPECT_EQ(ran.size(), 500u);
  EXPECT_EQ(std::set<std::string>(ran.begin(), ran.end()).size(), 500u);
}

TEST_F(SchedulerTest, CrashedReplicasLeaseIsTakenOverAfterExpiry) {
  queue.schedule("ping:x", at("2026-12-01T08:00:00Z"));
  // r1 claims and "crashes" (never completes).
  auto claimed = queue.claim(at("2026-12-01T09:00:00Z"), 10, 300s, "r1");
  ASSERT_EQ(claimed.size(), 1u);
  Scheduler s2(queue, "r2", 300s);
  int n = 0;
  s2.register_kind("ping", [&](const Job&, TimePoint) { ++n; });
  EXPECT_EQ(s2.run_pass(at("2026-12-01T09:04:00Z")).claimed, 0u);  // lease still held
  EXPECT_EQ(s2.run_pass(at("2026-12-01T09:05:01Z")).done, 1u);     // expired: taken over
  EXPECT_EQ(n, 1);
  EXPECT_FALSE(queue.complete(claimed[0], "r1"));  // r1 lost it
  EXPECT_EQ(queue.leased(), 0u);
}

TEST_F(SchedulerTest, FailingJobIsRetriedAfterItsLease) {
  queue.schedule("boom:1", at("2026-12-01T08:00:00Z"));
  Scheduler s(queue, "r1", 60s);
  int calls = 0;
  s.register_kind("boom", [&](const Job&, TimePoint) {
    if (++calls == 1) throw std::runtime_error("transient");
  });
  EXPECT_EQ(s.run_pass(at("2026-12-01T09:00:00Z")).failed, 1u);
  EXPECT_EQ(s.run_pass(at("2026-12-01T09:00:30Z")).claimed, 0u);
  EXPECT_EQ(s.run_pass(at("2026-12-01T09:01:01Z")).done, 1u);
  EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace auditbot
