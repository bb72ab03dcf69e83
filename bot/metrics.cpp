// Metrics registry and its Prometheus text rendering (exposition format 0.0.4).
#include "bot/metrics.hpp"

#include <stdexcept>

namespace auditbot {

namespace {

// HELP text may not contain raw newlines or backslashes in the exposition format.
std::string escape_help(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::atomic<std::int64_t>& Metrics::counter(const std::string& name, const std::string& help,
                                            const std::string& labels) {
  return get(name, help, "counter", labels);
}

std::atomic<std::int64_t>& Metrics::gauge(const std::string& name, const std::string& help,
                                          const std::string& labels) {
  return get(name, help, "gauge", labels);
}

std::atomic<std::int64_t>& Metrics::get(const std::string& name, const std::string& help,
                                        const std::string& type, const std::string& labels) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = families_.try_emplace(name);
  Family& family = it->second;
  if (inserted) {
    family.help = help;
    family.type = type;
  } else if (family.type != type) {
    // One name with two types would render an exposition Prometheus rejects.
    throw std::logic_error("metric " + name + " registered as " + family.type + " and " + type);
  }
  if (family.help.empty()) {
    family.help = help;
  }
  auto& slot = family.series[labels];
  if (!slot) {
    slot = std::make_unique<std::atomic<std::int64_t>>(0);
  }
  return *slot;
}

std::string Metrics::render() const {
  std::string out;
  std::lock_guard lock(mu_);
  // std::map keeps families and series sorted, so scrapes diff cleanly.
  for (const auto& [name, family] : families_) {
    if (!family.help.empty()) {
      out += "# HELP " + name + " " + escape_help(family.help) + "\n";
    }
    out += "# TYPE " + name + " " + family.type + "\n";
    for (const auto& [labels, value] : family.series) {
      out += name;
      if (!labels.empty()) {
        out += "{" + labels + "}";
      }
      out += " " + std::to_string(value->load(std::memory_order_relaxed)) + "\n";
    }
  }
  return out;
}

Metrics& Metrics::global() {
  // Never destroyed: threads may still bump counters while statics are torn down.
  static Metrics* instance = new Metrics();
  return *instance;
}

}  // namespace auditbot
