// The scheduler's job queue on Redis: a sorted set of due jobs scored by time (ms) and a
// sorted set of leases scored by expiry; claims and releases are single Lua calls.
#pragma once

#include <string>

#include "bot/scheduler.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

namespace sched_keys {
std::string due(const Keys& k);     // zset: job id -> run at (ms since epoch)
std::string leases(const Keys& k);  // zset: job id -> lease expiry (ms)
std::string owners(const Keys& k);  // hash: job id -> replica holding the lease
}  // namespace sched_keys

class RedisJobQueue final : public JobQueue {
 public:
  explicit RedisJobQueue(Store& store) : store_(store) {}
  void schedule(const std::string& id, TimePoint at, bool keep_earlier = true,
                bool if_idle = false) override;
  void cancel(const std::string& id) override;
  std::vector<Job> claim(TimePoint now, std::size_t max, std::chrono::seconds lease,
                         const std::string& owner) override;
  bool complete(const Job& job, const std::string& owner) override;
  std::size_t complete_many(const std::vector<Job>& jobs, const std::string& owner) override;
  std::size_t scheduled() override;
  std::size_t leased();

 private:
  Store& store_;
};

}  // namespace auditbot
