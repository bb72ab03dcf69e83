// The store: every key of one organisation under `auditbot:{org}:` (one hash tag, so
// multi-key scripts work on Redis Cluster), and atomic transactions that check
// preconditions, write, append to the hash-chained audit log and queue outbox messages in
// one Lua call.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bot/clock.hpp"
#include "bot/message.hpp"
#include "bot/outbox.hpp"
#include "integrations/redis/redis_client.hpp"

namespace auditbot {

// Key names. Everything the bot stores is named here, so the layout is one page to read.
class Keys {
 public:
  explicit Keys(std::string org_id);
  const std::string& prefix() const { return prefix_; }  // "auditbot:{acme}:"
  std::string key(std::string_view suffix) const { return prefix_ + std::string(suffix); }

  std::string item(std::string_view id) const;                  // hash: an ASK/REQ/GAP/... item
  std::string item_history(std::string_view id) const;          // list of JSON submissions etc.
  std::string counter(std::string_view kind) const;             // INCR for ASK-n
  std::string person_items(std::string_view person) const;      // zset: open items by due (ms)
  std::string items_of_kind(std::string_view kind) const;       // zset: all items of a kind
  std::string control(std::string_view id) const;               // hash
  std::string controls() const;                                 // set of control ids
  std::string dedup(std::string_view event_id) const;           // inbound idempotency marker
  std::string audit_stream() const;                             // stream: the audit trail
  std::string audit_head() const;                               // hash: seq, hash of last entry
  std::string outbox_stream() const;                            // stream: outbound messages
  std::string message_ref(std::string_view message_key) const;  // platform ids of a message
  std::string learned_timezones() const;  // hash: person id -> IANA zone a platform reported

 private:
  std::string prefix_;
};

// One audit-log entry as written and as read back.
struct AuditEntry {
  std::string stream_id;  // Redis stream id (read back only)
  std::int64_t seq = 0;
  std::string ts;      // ISO-8601 from the injected clock
  std::string actor;   // person id or "system"
  std::string action;  // "ask.created", "ask.submitted", ...
  std::string item;    // ASK-1
  std::string detail;  // compact JSON
  std::string prev;    // previous entry's hash (64 hex zeros for the first)
  std::string hash;    // sha256 hex over canonical_audit_text()
};
// The exact text the hash covers: seq, ts, actor, action, item, detail, prev joined by '\n'.
std::string canonical_audit_text(const AuditEntry& e);
std::string sha256_hex(std::string_view data);

// Builder for one atomic change. Nothing touches Redis until Store::commit.
class Txn {
 public:
  // --- preconditions (all checked before any write; first failing one aborts) ---
  // Aborts the whole transaction as a duplicate if `key` exists; otherwise sets it with
  // a TTL. Used for inbound event ids so redeliveries change state once.
  Txn& claim_once(std::string key, std::chrono::seconds ttl);
  // Hash field must equal `value` (empty string == field absent). `why` is the Conflict text.
  Txn& expect_field(std::string key, std::string field, std::string value, std::string why);
  Txn& expect_exists(std::string key, std::string why);
  Txn& expect_absent(std::string key, std::string why);

  // --- writes ---
  Txn& hset(std::string key, std::map<std::string, std::string> fields);
  Txn& hdel(std::string key, std::vector<std::string> fields);
  Txn& zadd(std::string key, double score, std::string member);
  Txn& zrem(std::string key, std::string member);
  Txn& sadd(std::string key, std::string member);
  Txn& srem(std::string key, std::string member);
  Txn& rpush(std::string key, std::string value);
  Txn& del(std::string key);

  // --- audit and outbox (written in the same script) ---
  Txn& audit(std::string actor, std::string action, std::string item, nlohmann::json detail);
  // Returns the stable outbox id assigned to the message.
  std::string send(Message m);

  bool empty() const;
  // Serialised form used by Store::commit (keys list + JSON ops) — public for tests.
  struct Encoded {
    std::vector<std::string> keys;
    std::string ops_json;
  };
  Encoded encode(const Keys& keys, TimePoint now) const;

 private:
  nlohmann::json ops_ = nlohmann::json::array();
  std::vector<std::string> key_list_;
  std::map<std::string, std::size_t> key_index_;
  std::size_t key_ref(std::string key);
  friend class Store;
};

struct CommitResult {
  enum class Status { committed, duplicate, conflict };
  Status status = Status::committed;
  std::string reason;  // the failed precondition's `why` on conflict
  std::vector<std::int64_t> audit_seqs;
  bool ok() const { return status == Status::committed; }
};

class Store {
 public:
  Store(redis::Client& client, std::string org_id, const Clock& clock);

  const Keys& keys() const { return keys_; }
  redis::Client& client() { return client_; }
  const Clock& clock() const { return clock_; }

  CommitResult commit(const Txn& txn);

  // Next number for a kind ("ask" -> 1, 2, ...). Ids are never reused.
  std::int64_t next_number(std::string_view kind);
  std::optional<std::map<std::string, std::string>> hgetall(const std::string& key);
  // A platform reported `tz` as the person's zone: kept when it is a valid IANA zone (the
  // directory prefers a zone from the config). True when it changed what was kept.
  bool remember_timezone(const std::string& person, const std::string& tz);
  // Several hashes in one round trip; missing ones are nullopt.
  std::vector<std::optional<std::map<std::string, std::string>>> hgetall_many(
      const std::vector<std::string>& keys);
  std::vector<std::string> zrange_by_score(const std::string& key, double min, double max,
                                           std::size_t limit = 1000);
  std::vector<std::string> lrange(const std::string& key);
  std::vector<std::string> smembers(const std::string& key);

  // Audit trail, oldest first, `count` at a time from after `after_stream_id` ("-" = start).
  std::vector<AuditEntry> read_audit(const std::string& after_stream_id, std::size_t count);

 private:
  redis::Client& client_;
  Keys keys_;
  const Clock& clock_;
  // Last audit head this Store wrote; lets commit() hash entries in C++ instead of in Lua.
  struct HeadHint;
  std::shared_ptr<HeadHint> head_hint_;
};

// Recomputes the audit chain. `ok` false names the first broken entry.
struct AuditVerification {
  bool ok = true;
  std::int64_t entries = 0;
  std::string head_hash;
  std::int64_t broken_seq = 0;
  std::string broken_stream_id;
  std::string problem;  // "hash mismatch", "prev does not match entry 4", "seq gap", ...
};
AuditVerification verify_audit_log(Store& store);

}  // namespace auditbot
