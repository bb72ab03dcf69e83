// What every capability handler works with: configuration, people, the store, the clock
// and the calendar. No platform types: handlers never know where an event came from.
#pragma once

#include "bot/calendar.hpp"
#include "bot/clock.hpp"
#include "bot/event.hpp"
#include "bot/people.hpp"
#include "config/config.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot {

struct Services {
  const Config& config;
  const Directory& people;
  Store& store;
  const Clock& clock;
  const BusinessCalendar& calendar;

  // Today in the person's own time zone.
  Date today_for(const Person& p) const {
    return BusinessCalendar::local_date(clock.now(), people.timezone_of(p));
  }
  // A transaction that, for a platform delivery id, changes state only once.
  Txn txn_for(const InboundEvent& e) const {
    Txn t;
    if (!e.event_id.empty()) {
      t.claim_once(store.keys().dedup(std::string(to_string(e.platform)) + ":" + e.event_id),
                   std::chrono::hours(24));
    }
    return t;
  }
};

// "Bob Li (@bob)"
std::string display(const Person& p);
// Throws NotFound naming the mention when nobody matches.
const Person& require_person(const Directory& people, std::string_view mention);
// An evidence link as every capability accepts it: http(s), no spaces.
bool looks_like_url(std::string_view s);
bool has_any_role(const Person& p, std::initializer_list<Role> roles);
// Throws Forbidden ("Only a liaison or admin can create evidence asks.") unless p has a role.
void require_role(const Person& p, std::initializer_list<Role> roles, std::string_view doing);

}  // namespace auditbot
