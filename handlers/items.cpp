#include "handlers/items.hpp"

#include <chrono>

#include "integrations/redis/job_queue.hpp"

namespace auditbot::items {

double due_score(Date due) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::sys_days(due).time_since_epoch())
                                 .count());
}

double due_score(std::string_view yyyy_mm_dd) {
  auto d = parse_date(yyyy_mm_dd);
  return d ? due_score(*d) : 0;
}

void assign(Txn& txn, const Keys& keys, std::string_view id, std::string_view person, Date due) {
  txn.zadd(keys.person_items(person), due_score(due), std::string(id));
  // Score 0: the reminder planner runs at the next scheduler pass.
  txn.zadd(sched_keys::due(keys), 0, "plan:" + std::string(id));
}

void unassign(Txn& txn, const Keys& keys, std::string_view id, std::string_view person) {
  txn.zrem(keys.person_items(person), std::string(id));
}

void set_due(Txn& txn, const Keys& keys, std::string_view id, Date due) {
  txn.zadd(keys.key("items:due"), due_score(due), std::string(id));
  txn.zadd(sched_keys::due(keys), 0, "plan:" + std::string(id));
}

void resolved(Txn& txn, const Keys& keys, std::string_view id) {
  txn.zrem(keys.key("items:due"), std::string(id));
  // Stops the escalation ladder at once.
  txn.zrem(sched_keys::due(keys), "plan:" + std::string(id));
  txn.zrem(sched_keys::due(keys), "escalate:" + std::string(id));
}

}  // namespace auditbot::items
