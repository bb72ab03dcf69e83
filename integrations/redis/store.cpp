// Store over Redis: key layout, the atomic transaction (one EVALSHA of txn_script), reads,
// and the audit-chain verifier.
#include "integrations/redis/store.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include "bot/calendar.hpp"
#include "integrations/redis/txn_script.hpp"

namespace auditbot {

namespace {

const std::string kZeroHash(64, '0');

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[data[i] >> 4]);
    out.push_back(digits[data[i] & 0xf]);
  }
  return out;
}

// Exact text for a score: Lua would round a JSON number to 14 digits.
std::string score_text(double v) {
  if (std::isinf(v)) {
    return v > 0 ? "+inf" : "-inf";
  }
  if (std::isnan(v)) {
    throw std::invalid_argument("sorted-set score is NaN");
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// JSON text for the script; invalid UTF-8 throws rather than being silently altered.
std::string dump(const nlohmann::json& j) {
  return j.dump();
}

const redis::Reply& checked(const redis::Reply& r) {
  if (r.type == redis::Reply::Type::error) {
    throw redis::ReplyError(r.str);
  }
  return r;
}

std::optional<std::map<std::string, std::string>> to_map(const redis::Reply& r) {
  checked(r);
  if (r.type != redis::Reply::Type::array) {
    throw redis::Error("expected an array reply");
  }
  if (r.elements.empty()) {
    return std::nullopt;  // Redis never keeps an empty hash
  }
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
    out.emplace(r.elements[i].as_string(), r.elements[i + 1].as_string());
  }
  return out;
}

std::vector<std::string> to_strings(const redis::Reply& r) {
  checked(r);
  std::vector<std::string> out;
  if (r.type == redis::Reply::Type::nil) {
    return out;
  }
  if (r.type != redis::Reply::Type::array) {
    throw redis::Error("expected an array reply");
  }
  out.reserve(r.elements.size());
  for (const auto& e : r.elements) {
    out.push_back(e.as_string());
  }
  return out;
}

std::int64_t parse_seq(const std::string& s) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty() || v < 1) {
    return -1;
  }
  return v;
}

}  // namespace

// ---------------------------------------------------------------- Keys

Keys::Keys(std::string org_id) {
  if (org_id.empty()) {
    throw std::invalid_argument("organisation id is empty");
  }
  // A brace inside the tag would move keys to another cluster slot.
  if (org_id.find_first_of("{}") != std::string::npos) {
    throw std::invalid_argument("organisation id must not contain '{' or '}'");
  }
  prefix_ = "auditbot:{" + std::move(org_id) + "}:";
}

std::string Keys::item(std::string_view id) const {
  return key("item:" + std::string(id));
}
std::string Keys::item_history(std::string_view id) const {
  return key("item:" + std::string(id) + ":history");
}
std::string Keys::counter(std::string_view kind) const {
  return key("counter:" + std::string(kind));
}
std::string Keys::person_items(std::string_view person) const {
  return key("person:" + std::string(person) + ":items");
}
std::string Keys::items_of_kind(std::string_view kind) const {
  return key("kind:" + std::string(kind) + ":items");
}
std::string Keys::control(std::string_view id) const {
  return key("control:" + std::string(id));
}
std::string Keys::controls() const {
  return key("controls");
}
std::string Keys::dedup(std::string_view event_id) const {
  return key("dedup:" + std::string(event_id));
}
std::string Keys::audit_stream() const {
  return key("audit");
}
std::string Keys::audit_head() const {
  return key("audit:head");
}
std::string Keys::outbox_stream() const {
  return key("outbox");
}
std::string Keys::message_ref(std::string_view message_key) const {
  return key("msg:" + std::string(message_key));
}

std::string Keys::learned_timezones() const {
  return key("people:tz");
}

// ---------------------------------------------------------------- hashing

std::string canonical_audit_text(const AuditEntry& e) {
  std::string out;
  out.reserve(32 + e.ts.size() + e.actor.size() + e.action.size() + e.item.size() +
              e.detail.size() + e.prev.size());
  out += std::to_string(e.seq);
  out += '\n';
  out += e.ts;
  out += '\n';
  out += e.actor;
  out += '\n';
  out += e.action;
  out += '\n';
  out += e.item;
  out += '\n';
  out += e.detail;
  out += '\n';
  out += e.prev;
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return to_hex(md, len);
}

// ---------------------------------------------------------------- Txn

std::size_t Txn::key_ref(std::string key) {
  auto it = key_index_.find(key);
  if (it != key_index_.end()) {
    return it->second;
  }
  key_list_.push_back(key);
  std::size_t idx = key_list_.size();  // 1-based, as Lua's KEYS
  key_index_.emplace(std::move(key), idx);
  return idx;
}

Txn& Txn::claim_once(std::string key, std::chrono::seconds ttl) {
  auto secs = std::max<std::int64_t>(ttl.count(), 1);  // EX 0 is an error in Redis
  ops_.push_back({{"op", "claim"}, {"k", key_ref(std::move(key))}, {"ttl", std::to_string(secs)}});
  return *this;
}

Txn& Txn::expect_field(std::string key, std::string field, std::string value, std::string why) {
  ops_.push_back({{"op", "expect_field"},
                  {"k", key_ref(std::move(key))},
                  {"f", std::move(field)},
                  {"v", std::move(value)},
                  {"why", std::move(why)}});
  return *this;
}

Txn& Txn::expect_exists(std::string key, std::string why) {
  ops_.push_back({{"op", "exists"}, {"k", key_ref(std::move(key))}, {"why", std::move(why)}});
  return *this;
}

Txn& Txn::expect_absent(std::string key, std::string why) {
  ops_.push_back({{"op", "absent"}, {"k", key_ref(std::move(key))}, {"why", std::move(why)}});
  return *this;
}

Txn& Txn::hset(std::string key, std::map<std::string, std::string> fields) {
  if (fields.empty()) {
    return *this;
  }
  nlohmann::json fv = nlohmann::json::array();
  for (auto& entry : fields) {
    fv.push_back(entry.first);
    fv.push_back(std::move(entry.second));
  }
  ops_.push_back({{"op", "hset"}, {"k", key_ref(std::move(key))}, {"fv", std::move(fv)}});
  return *this;
}

Txn& Txn::hdel(std::string key, std::vector<std::string> fields) {
  if (fields.empty()) {
    return *this;
  }
  ops_.push_back({{"op", "hdel"}, {"k", key_ref(std::move(key))}, {"f", std::move(fields)}});
  return *this;
}

Txn& Txn::zadd(std::string key, double score, std::string member) {
  ops_.push_back({{"op", "zadd"},
                  {"k", key_ref(std::move(key))},
                  {"s", score_text(score)},
                  {"m", std::move(member)}});
  return *this;
}

Txn& Txn::zrem(std::string key, std::string member) {
  ops_.push_back({{"op", "zrem"}, {"k", key_ref(std::move(key))}, {"m", std::move(member)}});
  return *this;
}

Txn& Txn::sadd(std::string key, std::string member) {
  ops_.push_back({{"op", "sadd"}, {"k", key_ref(std::move(key))}, {"m", std::move(member)}});
  return *this;
}

Txn& Txn::srem(std::string key, std::string member) {
  ops_.push_back({{"op", "srem"}, {"k", key_ref(std::move(key))}, {"m", std::move(member)}});
  return *this;
}

Txn& Txn::rpush(std::string key, std::string value) {
  ops_.push_back({{"op", "rpush"}, {"k", key_ref(std::move(key))}, {"v", std::move(value)}});
  return *this;
}

Txn& Txn::del(std::string key) {
  ops_.push_back({{"op", "del"}, {"k", key_ref(std::move(key))}});
  return *this;
}

// NOLINTNEXTLINE(performance-unnecessary-value-param): by-value is the header's contract
Txn& Txn::audit(std::string actor, std::string action, std::string item, nlohmann::json detail) {
  // A null detail means "nothing to add" and is stored as empty text.
  std::string text = detail.is_null() ? std::string() : dump(detail);
  ops_.push_back({{"op", "audit"},
                  {"actor", std::move(actor)},
                  {"action", std::move(action)},
                  {"item", std::move(item)},
                  {"detail", std::move(text)}});
  return *this;
}

// NOLINTNEXTLINE(performance-unnecessary-value-param): by-value is the header's contract
std::string Txn::send(Message m) {
  unsigned char random[16];
  if (RAND_bytes(random, sizeof random) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  std::string id = "ob-" + to_hex(random, sizeof random);
  nlohmann::json j = m;
  ops_.push_back({{"op", "send"}, {"id", id}, {"message", dump(j)}});
  return id;
}

bool Txn::empty() const {
  return ops_.empty();
}

namespace {

struct HeadState {
  std::int64_t seq = 0;
  std::string hash;
};

// Shared by Txn::encode and Store::commit; with `head`, every audit op also carries the hash it
// will have if the head is still `head` when the script runs (the script checks).
Txn::Encoded encode_ops(const nlohmann::json& ops, const std::vector<std::string>& key_list,
                        const std::map<std::string, std::size_t>& key_index, const Keys& keys,
                        TimePoint now, const HeadState* head) {
  Txn::Encoded out;
  out.keys = key_list;
  for (const auto& k : out.keys) {
    // Keys outside the prefix would land in another cluster slot than the script expects.
    if (k.compare(0, keys.prefix().size(), keys.prefix()) != 0) {
      throw std::logic_error("transaction key outside the organisation prefix: " + k);
    }
  }
  auto index_of = [&](const std::string& k) -> std::size_t {
    auto it = key_index.find(k);
    if (it != key_index.end()) {
      return it->second;
    }
    out.keys.push_back(k);
    return out.keys.size();
  };
  nlohmann::json doc;
  doc["ts"] = format_iso8601(now);
  doc["audit"] = index_of(keys.audit_stream());
  doc["head"] = index_of(keys.audit_head());
  doc["outbox"] = index_of(keys.outbox_stream());
  doc["ops"] = ops;
  if (head) {
    AuditEntry e;
    e.seq = head->seq;
    e.prev = head->hash;
    e.ts = doc["ts"].get<std::string>();
    bool any = false;
    for (auto& op : doc["ops"]) {
      if (op["op"] != "audit") {
        continue;
      }
      any = true;
      ++e.seq;
      e.actor = op["actor"].get<std::string>();
      e.action = op["action"].get<std::string>();
      e.item = op["item"].get<std::string>();
      e.detail = op["detail"].get<std::string>();
      std::string hash = sha256_hex(canonical_audit_text(e));
      op["h"] = hash;
      e.prev = std::move(hash);
    }
    if (any) {
      doc["hint"] = {{"seq", std::to_string(head->seq)}, {"hash", head->hash}};
    }
  }
  out.ops_json = dump(doc);
  return out;
}

}  // namespace

Txn::Encoded Txn::encode(const Keys& keys, TimePoint now) const {
  return encode_ops(ops_, key_list_, key_index_, keys, now, nullptr);
}

// ---------------------------------------------------------------- Store

struct Store::HeadHint {
  std::mutex mu;
  std::optional<HeadState> head;  // unknown until this Store wrote an audit entry
};

Store::Store(redis::Client& client, std::string org_id, const Clock& clock)
    : client_(client),
      keys_(std::move(org_id)),
      clock_(clock),
      head_hint_(std::make_shared<HeadHint>()) {}

CommitResult Store::commit(const Txn& txn) {
  CommitResult result;
  if (txn.empty()) {
    return result;
  }
  std::optional<HeadState> head;
  {
    std::lock_guard lock(head_hint_->mu);
    head = head_hint_->head;
  }
  // Hashing in C++ spares Redis the Lua SHA-256; a stale guess only costs the Lua fallback.
  Txn::Encoded enc = encode_ops(txn.ops_, txn.key_list_, txn.key_index_, keys_, clock_.now(),
                                head ? &*head : nullptr);
  redis::Reply r = client_.eval(transaction_script(), enc.keys, {enc.ops_json});
  checked(r);
  if (r.type != redis::Reply::Type::array || r.elements.empty()) {
    throw redis::Error("transaction script returned an unexpected reply");
  }
  const std::string& status = r.elements[0].as_string();
  if (status == "committed") {
    result.status = CommitResult::Status::committed;
    for (std::size_t i = 2; i < r.elements.size(); ++i) {
      result.audit_seqs.push_back(r.elements[i].as_integer());
    }
    if (!result.audit_seqs.empty() && r.elements.size() > 1) {
      std::lock_guard lock(head_hint_->mu);
      head_hint_->head = HeadState{result.audit_seqs.back(), r.elements[1].as_string()};
    }
  } else if (status == "duplicate") {
    result.status = CommitResult::Status::duplicate;
  } else if (status == "conflict") {
    result.status = CommitResult::Status::conflict;
    if (r.elements.size() > 1) {
      result.reason = r.elements[1].as_string();
    }
  } else {
    throw redis::Error("transaction script returned an unknown status");
  }
  return result;
}

std::int64_t Store::next_number(std::string_view kind) {
  return checked(client_.command({"INCR", keys_.counter(kind)})).as_integer();
}

std::optional<std::map<std::string, std::string>> Store::hgetall(const std::string& key) {
  return to_map(client_.command({"HGETALL", key}));
}

bool Store::remember_timezone(const std::string& person, const std::string& tz) {
  if (person.empty() || !BusinessCalendar::is_valid_zone(tz)) return false;
  const std::string key = keys_.learned_timezones();
  const auto before = client_.command({"HGET", key, person}).as_optional_string();
  if (before && *before == tz) return false;
  client_.command({"HSET", key, person, tz});
  return true;
}

std::vector<std::optional<std::map<std::string, std::string>>> Store::hgetall_many(
    const std::vector<std::string>& keys) {
  std::vector<redis::Command> cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys) {
    cmds.push_back({"HGETALL", k});
  }
  std::vector<std::optional<std::map<std::string, std::string>>> out;
  out.reserve(keys.size());
  for (const auto& r : client_.pipeline(cmds)) {
    out.push_back(to_map(r));
  }
  return out;
}

std::vector<std::string> Store::zrange_by_score(const std::string& key, double min, double max,
                                                std::size_t limit) {
  return to_strings(client_.command({"ZRANGE", key, score_text(min), score_text(max), "BYSCORE",
                                     "LIMIT", "0", std::to_string(limit)}));
}

std::vector<std::string> Store::lrange(const std::string& key) {
  return to_strings(client_.command({"LRANGE", key, "0", "-1"}));
}

std::vector<std::string> Store::smembers(const std::string& key) {
  return to_strings(client_.command({"SMEMBERS", key}));
}

std::vector<AuditEntry> Store::read_audit(const std::string& after_stream_id, std::size_t count) {
  std::string start =
      (after_stream_id.empty() || after_stream_id == "-") ? "-" : "(" + after_stream_id;
  redis::Reply r =
      client_.command({"XRANGE", keys_.audit_stream(), start, "+", "COUNT", std::to_string(count)});
  checked(r);
  std::vector<AuditEntry> out;
  if (r.type != redis::Reply::Type::array) {
    return out;
  }
  out.reserve(r.elements.size());
  for (const auto& entry : r.elements) {
    if (entry.elements.size() < 2) {
      continue;
    }
    AuditEntry e;
    e.stream_id = entry.elements[0].as_string();
    e.seq = -1;  // stays -1 when the field is missing or not a number
    const auto& fv = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fv.size(); i += 2) {
      const std::string& f = fv[i].as_string();
      const std::string& v = fv[i + 1].as_string();
      if (f == "seq") {
        e.seq = parse_seq(v);
      } else if (f == "ts") {
        e.ts = v;
      } else if (f == "actor") {
        e.actor = v;
      } else if (f == "action") {
        e.action = v;
      } else if (f == "item") {
        e.item = v;
      } else if (f == "detail") {
        e.detail = v;
      } else if (f == "prev") {
        e.prev = v;
      } else if (f == "hash") {
        e.hash = v;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

// ---------------------------------------------------------------- verification

AuditVerification verify_audit_log(Store& store) {
  AuditVerification v;
  auto fail = [&](std::int64_t seq, const std::string& stream_id, std::string problem) {
    v.ok = false;
    v.broken_seq = seq;
    v.broken_stream_id = stream_id;
    v.problem = std::move(problem);
    return v;
  };

  constexpr std::size_t kChunk = 1000;
  std::string after = "-";
  std::int64_t prev_seq = 0;
  std::string prev_hash = kZeroHash;
  std::string last_id;
  for (;;) {
    std::vector<AuditEntry> chunk = store.read_audit(after, kChunk);
    for (const AuditEntry& e : chunk) {
      const std::string n = std::to_string(e.seq);
      if (e.seq < 0) {
        return fail(prev_seq + 1, e.stream_id,
                    "entry after " + std::to_string(prev_seq) + ": seq is missing or not a number");
      }
      if (sha256_hex(canonical_audit_text(e)) != e.hash) {
        return fail(e.seq, e.stream_id, "entry " + n + ": hash does not match its contents");
      }
      if (e.seq <= prev_seq) {
        return fail(
            e.seq, e.stream_id,
            "entry " + n + " is out of order (it follows entry " + std::to_string(prev_seq) + ")");
      }
      if (e.seq != prev_seq + 1) {
        std::string from = std::to_string(prev_seq + 1);
        std::string missing = e.seq == prev_seq + 2 ? "entry " + from + " missing"
                                                    : "entries " + from + " to " +
                                                          std::to_string(e.seq - 1) + " missing";
        missing += " (seq jumps from " + std::to_string(prev_seq) + " to " + n + ")";
        return fail(prev_seq + 1, e.stream_id, std::move(missing));
      }
      if (e.prev != prev_hash) {
        if (prev_seq == 0) {
          return fail(e.seq, e.stream_id, "entry " + n + ": prev is not the start of the chain");
        }
        return fail(e.seq, e.stream_id,
                    "entry " + n + ": prev does not match entry " + std::to_string(prev_seq));
      }
      prev_seq = e.seq;
      prev_hash = e.hash;
      last_id = e.stream_id;
      ++v.entries;
    }
    if (chunk.size() < kChunk) {
      break;
    }
    after = chunk.back().stream_id;
  }

  auto head = store.hgetall(store.keys().audit_head());
  std::int64_t head_seq = 0;
  std::string head_hash;
  if (head) {
    auto s = head->find("seq");
    if (s != head->end()) {
      head_seq = parse_seq(s->second);
    }
    auto h = head->find("hash");
    if (h != head->end()) {
      head_hash = h->second;
    }
  }
  v.head_hash = head_hash;
  if (head_seq != prev_seq) {
    if (head_seq < 0) {
      return fail(prev_seq, last_id, "head seq is not a number");
    }
    return fail(std::min(head_seq, prev_seq) + 1, last_id,
                "head says " + std::to_string(head_seq) + " entries, stream ends at " +
                    std::to_string(prev_seq));
  }
  if (prev_seq > 0 && head_hash != prev_hash) {
    return fail(prev_seq, last_id, "head hash does not match entry " + std::to_string(prev_seq));
  }
  return v;
}

}  // namespace auditbot
