// RedisOutboxQueue: XREADGROUP claims new outbox entries for one consumer, XACK confirms them.
#include "integrations/redis/outbox_queue.hpp"

#include <algorithm>

#include "bot/log.hpp"

namespace auditbot {

namespace {

constexpr const char* kGroup = "delivery";

// XACK, then XDEL: the stream keeps only entries still to be sent (one group reads it).
const redis::Script kAckAndDelete(R"lua(
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return n
)lua");

// Parses one stream entry [id, [field, value, ...]]; nullopt when it cannot be delivered.
std::optional<OutboxEntry> parse_entry(const redis::Reply& entry) {
  if (entry.type != redis::Reply::Type::array || entry.elements.size() < 2) {
    return std::nullopt;
  }
  OutboxEntry out;
  out.stream_id = entry.elements[0].as_string();
  const auto& fv = entry.elements[1].elements;
  std::optional<std::string> message_json;
  for (std::size_t i = 0; i + 1 < fv.size(); i += 2) {
    const std::string& f = fv[i].as_string();
    if (f == "id") {
      out.id = fv[i + 1].as_string();
    } else if (f == "message") {
      message_json = fv[i + 1].as_string();
    }
  }
  if (out.id.empty() || !message_json) {
    return std::nullopt;
  }
  try {
    out.message = nlohmann::json::parse(*message_json).get<Message>();
  } catch (const std::exception&) {  // bad JSON or an unknown enum value
    return std::nullopt;
  }
  return out;
}

}  // namespace

RedisOutboxQueue::RedisOutboxQueue(Store& store, std::string consumer,
                                   std::chrono::milliseconds retry_after)
    : store_(store), consumer_(std::move(consumer)), retry_after_(retry_after) {
  // Start at "0" so entries queued before the group existed are delivered too.
  redis::Reply r = store_.client().command(
      {"XGROUP", "CREATE", store_.keys().outbox_stream(), kGroup, "0", "MKSTREAM"});
  if (r.type == redis::Reply::Type::error && r.str.rfind("BUSYGROUP", 0) != 0) {
    throw redis::ReplyError(r.str);
  }
}

std::vector<OutboxEntry> RedisOutboxQueue::retry_own(std::size_t max) {
  std::vector<OutboxEntry> out;
  const std::string stream = store_.keys().outbox_stream();
  const redis::Reply p = store_.client().command({"XPENDING", stream, kGroup, "IDLE",
                                                  std::to_string(retry_after_.count()), "-", "+",
                                                  std::to_string(max), consumer_});
  if (p.type != redis::Reply::Type::array || p.elements.empty()) {
    return out;  // NOGROUP and friends: claim() below reports them
  }
  // XCLAIM to ourselves resets the idle time, so a slow send is not handed out twice.
  redis::Command cmd{"XCLAIM", stream, kGroup, consumer_, std::to_string(retry_after_.count())};
  for (const auto& e : p.elements) {
    if (!e.elements.empty()) {
      cmd.push_back(e.elements[0].as_string());
    }
  }
  const redis::Reply r = store_.client().command(cmd);
  if (r.type != redis::Reply::Type::array) {
    return out;
  }
  for (const auto& entry : r.elements) {
    if (auto e = parse_entry(entry)) {
      e->recovered = true;  // tried before: the platform may have it
      out.push_back(std::move(*e));
    }
  }
  return out;
}

std::vector<OutboxEntry> RedisOutboxQueue::claim(std::size_t max, std::chrono::milliseconds block) {
  std::vector<OutboxEntry> out;
  if (max == 0) {
    return out;
  }
  out = retry_own(max);
  if (!out.empty()) {
    return out;
  }
  redis::Command cmd{"XREADGROUP", "GROUP", kGroup, consumer_, "COUNT", std::to_string(max)};
  // BLOCK holds one pool connection for its whole duration and must end before the command
  // timeout; callers use zero or a short block. BLOCK 0 would mean "forever", so zero omits it.
  if (block.count() > 0) {
    auto limit = store_.client().options().command_timeout / 2;
    if (limit.count() > 0) {
      block = std::min(block, limit);
    }
    cmd.push_back("BLOCK");
    cmd.push_back(std::to_string(std::max<std::int64_t>(block.count(), 1)));
  }
  cmd.push_back("STREAMS");
  cmd.push_back(store_.keys().outbox_stream());
  cmd.push_back(">");

  redis::Reply r = store_.client().command(cmd);
  if (r.type == redis::Reply::Type::error) {
    if (r.str.rfind("NOGROUP", 0) == 0) {
      // The stream was deleted (e.g. FLUSHALL) since construction: recreate and try later.
      store_.client().command(
          {"XGROUP", "CREATE", store_.keys().outbox_stream(), kGroup, "0", "MKSTREAM"});
      return out;
    }
    throw redis::ReplyError(r.str);
  }
  if (r.type != redis::Reply::Type::array) {
    return out;  // nil: nothing new
  }
  for (const auto& stream : r.elements) {
    if (stream.elements.size() < 2) {
      continue;
    }
    for (const auto& entry : stream.elements[1].elements) {
      if (auto e = parse_entry(entry)) {
        out.push_back(std::move(*e));
      } else {
        // Left pending (not acked) so an operator can inspect it; never dropped silently.
        std::string id = entry.elements.empty() ? std::string("?") : entry.elements[0].str;
        log::error("outbox.unreadable_entry", {{"stream_id", id}});
      }
    }
  }
  return out;
}

void RedisOutboxQueue::ack(const OutboxEntry& e) {
  redis::Reply r =
      store_.client().eval(kAckAndDelete, {store_.keys().outbox_stream()}, {kGroup, e.stream_id});
  if (r.type == redis::Reply::Type::error) {
    throw redis::ReplyError(r.str);
  }
}

std::size_t RedisOutboxQueue::pending() {
  redis::Reply r = store_.client().command({"XPENDING", store_.keys().outbox_stream(), kGroup});
  if (r.type == redis::Reply::Type::error) {
    throw redis::ReplyError(r.str);
  }
  if (r.type != redis::Reply::Type::array || r.elements.empty()) {
    return 0;
  }
  return static_cast<std::size_t>(r.elements[0].as_integer());
}

}  // namespace auditbot
