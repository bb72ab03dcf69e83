// XAUTOCLAIM hands a crashed replica's pending entries to a live one; the ledger (one key
// per outbox id, 30 days) tells whether such an entry already reached the platform.
#include "integrations/redis/durable_outbox.hpp"

namespace auditbot {

namespace {

constexpr const char* kGroup = "delivery";
constexpr int kLedgerTtlSeconds = 30 * 24 * 3600;

void check(const redis::Reply& r) {
  if (r.type == redis::Reply::Type::error) throw redis::ReplyError(r.str);
}

std::optional<OutboxEntry> parse(const redis::Reply& entry) {
  if (entry.type != redis::Reply::Type::array || entry.elements.size() < 2) return std::nullopt;
  OutboxEntry out;
  out.stream_id = entry.elements[0].as_string();
  std::optional<std::string> json;
  const auto& fv = entry.elements[1].elements;
  for (std::size_t i = 0; i + 1 < fv.size(); i += 2) {
    if (fv[i].as_string() == "id") out.id = fv[i + 1].as_string();
    if (fv[i].as_string() == "message") json = fv[i + 1].as_string();
  }
  if (out.id.empty() || !json) return std::nullopt;
  try {
    out.message = nlohmann::json::parse(*json).get<Message>();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return out;
}

// Acknowledged entries are deleted at once, so the stream holds only what is still to be
// sent (one consumer group reads it; nothing else needs a delivered entry).
const redis::Script kAckAndDelete(R"lua(
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return n
)lua");

// Still ours? Then XCLAIM to ourselves with min-idle 0, which resets the idle time.
const redis::Script kRenew(R"lua(
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'JUSTID')
return 1
)lua");

}  // namespace

bool RedisDurableOutbox::renew(const OutboxEntry& e) {
  const redis::Reply r = store_.client().eval(kRenew, {store_.keys().outbox_stream()},
                                              {kGroup, e.stream_id, consumer_});
  check(r);
  return r.integer == 1;
}

RedisDurableOutbox::RedisDurableOutbox(Store& store, std::string consumer,
                                       std::chrono::milliseconds min_idle)
    : store_(store), consumer_(std::move(consumer)), min_idle_(min_idle) {
  const redis::Reply r = store_.client().command(
      {"XGROUP", "CREATE", store_.keys().outbox_stream(), kGroup, "0", "MKSTREAM"});
  if (r.type == redis::Reply::Type::error && r.str.rfind("BUSYGROUP", 0) != 0) {
    throw redis::ReplyError(r.str);
  }
}

std::vector<OutboxEntry> RedisDurableOutbox::claim(std::size_t max,
                                                   std::chrono::milliseconds block) {
  std::vector<OutboxEntry> out;
  if (max == 0) return out;
  const std::string stream = store_.keys().outbox_stream();
  // 1. Entries another consumer took and left idle too long (it crashed).
  redis::Reply r = store_.client().command({"XAUTOCLAIM", stream, kGroup, consumer_,
                                            std::to_string(min_idle_.count()), cursor_, "COUNT",
                                            std::to_string(max)});
  check(r);
  if (r.elements.size() >= 2) {
    cursor_ = r.elements[0].as_string();
    for (const auto& e : r.elements[1].elements) {
      if (auto entry = parse(e)) {
        entry->recovered = true;
        out.push_back(std::move(*entry));
      } else if (e.type == redis::Reply::Type::array && !e.elements.empty()) {
        // Unreadable entry: acknowledged so it cannot block the queue.
        store_.client().command({"XACK", stream, kGroup, e.elements[0].as_string()});
      }
    }
  }
  if (out.size() >= max) return out;
  // 2. New entries.
  redis::Command cmd{"XREADGROUP", "GROUP", kGroup,
                     consumer_,    "COUNT", std::to_string(max - out.size())};
  if (block.count() > 0 && out.empty()) {
    const auto limit = store_.client().options().command_timeout / 2;
    if (limit.count() > 0) block = std::min(block, limit);
    cmd.push_back("BLOCK");
    cmd.push_back(std::to_string(block.count()));
  }
  cmd.insert(cmd.end(), {"STREAMS", stream, ">"});
  r = store_.client().command(cmd);
  check(r);
  if (r.type != redis::Reply::Type::array) return out;
  for (const auto& s : r.elements) {
    if (s.elements.size() < 2) continue;
    for (const auto& e : s.elements[1].elements) {
      if (auto entry = parse(e)) {
        out.push_back(std::move(*entry));
      } else if (e.type == redis::Reply::Type::array && !e.elements.empty()) {
        store_.client().command({"XACK", stream, kGroup, e.elements[0].as_string()});
      }
    }
  }
  return out;
}

void RedisDurableOutbox::ack(const OutboxEntry& e) {
  check(
      store_.client().eval(kAckAndDelete, {store_.keys().outbox_stream()}, {kGroup, e.stream_id}));
}

std::optional<std::string> RedisDurableOutbox::find(const std::string& outbox_id) {
  const redis::Reply r =
      store_.client().command({"GET", store_.keys().key("outbox:delivered:" + outbox_id)});
  check(r);
  return r.as_optional_string();
}

void RedisDurableOutbox::record(const std::string& outbox_id, const std::string& platform_id) {
  check(store_.client().command({"SET", store_.keys().key("outbox:delivered:" + outbox_id),
                                 platform_id.empty() ? "-" : platform_id, "EX",
                                 std::to_string(kLedgerTtlSeconds)}));
}

std::size_t RedisDurableOutbox::pending() {
  const redis::Reply r =
      store_.client().command({"XPENDING", store_.keys().outbox_stream(), kGroup});
  check(r);
  if (r.elements.empty()) return 0;
  return static_cast<std::size_t>(r.elements[0].as_integer());
}

}  // namespace auditbot
