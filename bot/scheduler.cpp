// The scheduler pass: claim due jobs with a lease, run each by kind, release the lease.
#include "bot/scheduler.hpp"

#include <stdexcept>

#include "bot/log.hpp"

namespace auditbot {

Job Job::parse(std::string id, TimePoint due) {
  Job j;
  const auto colon = id.find(':');
  j.kind = id.substr(0, colon);
  j.arg = colon == std::string::npos ? std::string() : id.substr(colon + 1);
  j.id = std::move(id);
  j.due = due;
  return j;
}

void Scheduler::register_kind(std::string kind, Handler h) {
  if (!handlers_.emplace(kind, std::move(h)).second) {
    throw std::logic_error("scheduler: job kind registered twice: " + kind);
  }
}

Scheduler::PassResult Scheduler::run_pass(TimePoint now, std::size_t batch) {
  PassResult r;
  for (;;) {
    const std::vector<Job> jobs = queue_.claim(now, batch, lease_, owner_);
    r.claimed += jobs.size();
    std::vector<Job> finished;  // leases released together after the batch: one round trip
    finished.reserve(jobs.size());
    for (const Job& job : jobs) {
      auto it = handlers_.find(job.kind);
      if (it == handlers_.end()) {
        // Nobody can ever run it: drop it instead of retrying forever.
        log::warn("scheduler.unknown_kind", {{"job", job.id}});
        finished.push_back(job);
        ++r.unknown;
        continue;
      }
      try {
        it->second(job, now);
        finished.push_back(job);
        ++r.done;
      } catch (const std::exception& ex) {
        // Left leased: another pass retries it once the lease expires.
        log::error("scheduler.job_failed", {{"job", job.id}, {"error", ex.what()}});
        ++r.failed;
      }
    }
    if (!finished.empty()) queue_.complete_many(finished, owner_);
    if (jobs.size() < batch) return r;
  }
}

}  // namespace auditbot
