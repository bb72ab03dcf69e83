// Process metrics in Prometheus text format: counters and gauges with labels, cheap to
// bump from any thread, rendered for GET /metrics.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace auditbot {

class Metrics {
 public:
  // Returns a stable counter; same (name, labels) gives the same counter. `labels` is
  // already in Prometheus form: method="GET",path="/healthz" (or empty).
  std::atomic<std::int64_t>& counter(const std::string& name, const std::string& help,
                                     const std::string& labels = "");
  std::atomic<std::int64_t>& gauge(const std::string& name, const std::string& help,
                                   const std::string& labels = "");
  std::string render() const;  // text exposition format 0.0.4

  static Metrics& global();

 private:
  struct Family {
    std::string help;
    std::string type;
    std::map<std::string, std::unique_ptr<std::atomic<std::int64_t>>> series;
  };
  std::atomic<std::int64_t>& get(const std::string& name, const std::string& help,
                                 const std::string& type, const std::string& labels);
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace auditbot
