// Reports (C7): the readiness report (/soc2 status, and posted by itself before the audit
// window, once per configured day) and the weekly digest to the compliance channel.
#pragma once

#include <string>

#include "bot/router.hpp"
#include "bot/scheduler.hpp"
#include "handlers/services.hpp"

namespace auditbot {

struct Readiness {
  struct Category {
    int controls = 0, with_evidence = 0;
  };
  std::map<std::string, Category> categories;  // "CC", "A", "C", "PI", "P"
  int stale_evidence = 0;
  std::map<std::string, int> open_gaps;  // by severity
  int open_requests = 0;
  int acks_done = 0, acks_total = 0;
  std::optional<int> days_to_window;
};

class Reports {
 public:
  Reports(Services& s, JobQueue& jobs) : s_(s), jobs_(jobs) {}
  void register_with(Router& router);        // /soc2 status
  void register_jobs(Scheduler& scheduler);  // readiness:<days>, digest
  // Schedules the self-posted reports that are not scheduled yet (idempotent).
  void ensure_jobs(TimePoint now);

  Readiness readiness(TimePoint now) const;
  Message readiness_message(const Readiness& r, const std::string& title) const;

 private:
  void post_readiness(const Job& job, TimePoint now);
  void post_digest(const Job& job, TimePoint now);
  TimePoint next_digest(TimePoint now) const;

  Services& s_;
  JobQueue& jobs_;
};

}  // namespace auditbot
