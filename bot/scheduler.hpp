// The scheduler: due work as jobs in a time-ordered queue, claimed with a lease by exactly one
// replica per pass and run by the handler registered for the job's kind.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bot/clock.hpp"

namespace auditbot {

// A job is one string "kind:arg" ("remind:bob:2026-12-02"); the kind picks the handler.
struct Job {
  std::string id;
  std::string kind;
  std::string arg;
  TimePoint due;  // when it was scheduled to run

  static Job parse(std::string id, TimePoint due);
};

// Where jobs wait (a Redis sorted set in production). Every call is atomic.
class JobQueue {
 public:
  virtual ~JobQueue() = default;
  // Schedules `id` at `at`; an already scheduled id moves to `at` unless `keep_earlier` and
  // it is due sooner. A job that is leased right now is left alone when `if_idle`.
  virtual void schedule(const std::string& id, TimePoint at, bool keep_earlier = true,
                        bool if_idle = false) = 0;
  virtual void cancel(const std::string& id) = 0;
  // Up to `max` jobs due at `now`, each leased to `owner` until now + lease (expired leases
  // of other owners count as due again). Costs O(log n + claimed).
  virtual std::vector<Job> claim(TimePoint now, std::size_t max, std::chrono::seconds lease,
                                 const std::string& owner) = 0;
  // Ends the lease (only while `owner` still holds it). Returns false when it was lost.
  virtual bool complete(const Job& job, const std::string& owner) = 0;
  // complete() for many jobs at once (one round trip in Redis); returns how many were held.
  virtual std::size_t complete_many(const std::vector<Job>& jobs, const std::string& owner) {
    std::size_t n = 0;
    for (const Job& j : jobs)
      n += complete(j, owner) ? 1 : 0;
    return n;
  }
  virtual std::size_t scheduled() = 0;
};

class Scheduler {
 public:
  // Runs a job as of `now`. Throwing leaves the job leased: it runs again when the lease ends.
  using Handler = std::function<void(const Job&, TimePoint now)>;

  Scheduler(JobQueue& queue, std::string owner,
            std::chrono::seconds lease = std::chrono::seconds{300})
      : queue_(queue), owner_(std::move(owner)), lease_(lease) {}

  void register_kind(std::string kind, Handler h);  // throws std::logic_error on a duplicate
  bool knows(std::string_view kind) const { return handlers_.count(std::string(kind)) > 0; }

  struct PassResult {
    std::size_t claimed = 0, done = 0, failed = 0, unknown = 0;
  };
  // One pass: claim what is due at `now` (in batches of `batch`) and run it.
  PassResult run_pass(TimePoint now, std::size_t batch = 1000);

  JobQueue& queue() { return queue_; }

 private:
  JobQueue& queue_;
  std::string owner_;
  std::chrono::seconds lease_;
  std::map<std::string, Handler> handlers_;
};

}  // namespace auditbot
