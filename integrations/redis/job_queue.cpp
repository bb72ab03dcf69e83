// Lua scripts keep claim and release atomic, so two replicas never run one job at once.
#include "integrations/redis/job_queue.hpp"

namespace auditbot {

namespace sched_keys {
std::string due(const Keys& k) {
  return k.key("sched:due");
}
std::string leases(const Keys& k) {
  return k.key("sched:leases");
}
std::string owners(const Keys& k) {
  return k.key("sched:owners");
}
}  // namespace sched_keys

namespace {

// Expired leases first (a crashed replica's work), then due jobs; both by index range.
const redis::Script kClaim(R"lua(
local out = {}
local max = tonumber(ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, max)
for _, id in ipairs(expired) do
  redis.call('ZADD', KEYS[2], ARGV[2], id)
  redis.call('HSET', KEYS[3], id, ARGV[4])
  out[#out + 1] = id
  out[#out + 1] = ARGV[1]
end
local n = max - #expired
if n > 0 then
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, n)
  for i = 1, #due, 2 do
    redis.call('ZREM', KEYS[1], due[i])
    redis.call('ZADD', KEYS[2], ARGV[2], due[i])
    redis.call('HSET', KEYS[3], due[i], ARGV[4])
    out[#out + 1] = due[i]
    out[#out + 1] = due[i + 1]
  end
end
return out
)lua");

const redis::Script kComplete(R"lua(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
)lua");

// kComplete for ARGV[2..]; ARGV[1] is the owner.
const redis::Script kCompleteMany(R"lua(
local n = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    n = n + 1
  end
end
return n
)lua");

const redis::Script kSchedule(R"lua(
if ARGV[4] == '1' and redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
if ARGV[3] == '1' then
  local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if cur and tonumber(cur) <= tonumber(ARGV[2]) then return 0 end
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
)lua");

void check(const redis::Reply& r) {
  if (r.type == redis::Reply::Type::error) throw redis::ReplyError(r.str);
}

}  // namespace

void RedisJobQueue::schedule(const std::string& id, TimePoint at, bool keep_earlier, bool if_idle) {
  const auto& k = store_.keys();
  check(store_.client().eval(
      kSchedule, {sched_keys::due(k), sched_keys::leases(k)},
      {id, std::to_string(unix_millis(at)), keep_earlier ? "1" : "0", if_idle ? "1" : "0"}));
}

void RedisJobQueue::cancel(const std::string& id) {
  check(store_.client().command({"ZREM", sched_keys::due(store_.keys()), id}));
}

std::vector<Job> RedisJobQueue::claim(TimePoint now, std::size_t max, std::chrono::seconds lease,
                                      const std::string& owner) {
  std::vector<Job> out;
  if (max == 0) return out;
  const auto& k = store_.keys();
  const std::int64_t now_ms = unix_millis(now);
  const std::int64_t until =
      now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(lease).count();
  const redis::Reply r = store_.client().eval(
      kClaim, {sched_keys::due(k), sched_keys::leases(k), sched_keys::owners(k)},
      {std::to_string(now_ms), std::to_string(until), std::to_string(max), owner});
  check(r);
  out.reserve(r.elements.size() / 2);
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    const auto ms = static_cast<std::int64_t>(std::stod(r.elements[i + 1].as_string()));
    out.push_back(Job::parse(r.elements[i].as_string(), TimePoint(std::chrono::milliseconds(ms))));
  }
  return out;
}

bool RedisJobQueue::complete(const Job& job, const std::string& owner) {
  const auto& k = store_.keys();
  const redis::Reply r = store_.client().eval(
      kComplete, {sched_keys::leases(k), sched_keys::owners(k)}, {job.id, owner});
  check(r);
  return r.integer == 1;
}

std::size_t RedisJobQueue::complete_many(const std::vector<Job>& jobs, const std::string& owner) {
  if (jobs.empty()) return 0;
  const auto& k = store_.keys();
  std::vector<std::string> args;
  args.reserve(jobs.size() + 1);
  args.push_back(owner);
  for (const Job& j : jobs)
    args.push_back(j.id);
  const redis::Reply r =
      store_.client().eval(kCompleteMany, {sched_keys::leases(k), sched_keys::owners(k)}, args);
  check(r);
  return static_cast<std::size_t>(r.integer);
}

std::size_t RedisJobQueue::scheduled() {
  const redis::Reply r = store_.client().command({"ZCARD", sched_keys::due(store_.keys())});
  check(r);
  return static_cast<std::size_t>(r.integer);
}

std::size_t RedisJobQueue::leased() {
  const redis::Reply r = store_.client().command({"ZCARD", sched_keys::leases(store_.keys())});
  check(r);
  return static_cast<std::size_t>(r.integer);
}

}  // namespace auditbot
