// Open work items across every capability (asks, requests, gaps, policy acks): who must act
// on what by when. `mine`, reminders and escalation read these indexes; handlers write them
// only through these calls, inside the same transaction as the item's own change.
#pragma once

#include <string_view>

#include "bot/calendar.hpp"
#include "integrations/redis/store.hpp"

namespace auditbot::items {

// Sort key for a due date (milliseconds since the epoch at 00:00 UTC of that date).
double due_score(Date due);
double due_score(std::string_view yyyy_mm_dd);  // 0 when not a date

// `person` must act on `id` (owner, reviewer, approver): it shows in their `mine`.
void assign(Txn& txn, const Keys& keys, std::string_view id, std::string_view person, Date due);
void unassign(Txn& txn, const Keys& keys, std::string_view id, std::string_view person);
// The item is open and due on `due` (reminders and escalation work from this index).
void set_due(Txn& txn, const Keys& keys, std::string_view id, Date due);
// The item needs nothing more from anyone: it leaves the due index at once.
void resolved(Txn& txn, const Keys& keys, std::string_view id);

}  // namespace auditbot::items
