// `/soc2 mine`: the person's open items of every kind, soonest due first, with what is
// overdue and what waits for their review.
#pragma once

#include "bot/router.hpp"
#include "handlers/services.hpp"

namespace auditbot {

class MyItems {
 public:
  explicit MyItems(Services& s) : s_(s) {}
  void register_with(Router& router);
  Reply list(const Person& p) const;

 private:
  Services& s_;
};

}  // namespace auditbot
