// The store against a real redis-server: atomic commits with preconditions, the audit entry
// and outbox message written with them, key layout, reads, and Lua/C++ hash parity.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "integrations/redis/store.hpp"
#include "integrations/redis/txn_script.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

TimePoint at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  using namespace std::chrono;
  return sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss};
}

class StoreTest : public ::testing::Test {
 protected:
  test::RedisServer server;
  redis::Client client{server.client_options()};
  FakeClock clock{at(2026, 12, 5, 14, 3, 7)};
  Store store{client, "acme", clock};
  const Keys& k = store.keys();

  std::vector<redis::Reply> stream(const std::string& key) {
    return client.command({"XRANGE", key, "-", "+"}).elements;
  }
  std::map<std::string, std::string> fields_of(const redis::Reply& entry) {
    std::map<std::string, std::string> out;
    const auto& fv = entry.elements[1].elements;
    for (std::size_t i = 0; i + 1 < fv.size(); i += 2) {
      out[fv[i].str] = fv[i + 1].str;
    }
    return out;
  }
  std::vector<std::string> all_keys() {
    std::vector<std::string> out;
    for (const auto& e : client.command({"KEYS", "*"}).elements) {
      out.push_back(e.str);
    }
    return out;
  }
};

Message reminder_for(const std::string& person) {
  Message m;
  m.to = Recipient::person(person);
  m.key = "ask:ASK-1";
  m.title = "Evidence needed: access review";
  m.text = "Please upload the Q4 access review.";
  m.fields = {{"Due", "2026-12-12"}, {"Control", "CC6.1"}};
  Button b;
  b.action_id = "ask.submit";
  b.label = "Submit";
  b.value = "ASK-1";
  b.style = Button::Style::primary;
  b.inputs = {{"url", "Link", Input::Kind::url, false}};
  m.buttons = {b};
  return m;
}

TEST_F(StoreTest, CommitWritesStateAuditEntryAndOutboxMessageTogether) {
  Txn txn;
  txn.hset(k.item("ASK-1"), {{"status", "open"}, {"owner", "bob"}, {"title", "Access review"}})
      .zadd(k.person_items("bob"), 1765548000000.0, "ASK-1")
      .zadd(k.items_of_kind("ask"), 1765548000000.0, "ASK-1")
      .sadd(k.controls(), "CC6.1")
      .rpush(k.item_history("ASK-1"), R"({"event":"created"})")
      .audit("alice", "ask.created", "ASK-1", {{"owner", "bob"}, {"due", "2026-12-12"}});
  Message m = reminder_for("bob");
  std::string outbox_id = txn.send(m);

  CommitResult res = store.commit(txn);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res.audit_seqs, std::vector<std::int64_t>{1});

  auto item = store.hgetall(k.item("ASK-1"));
  ASSERT_TRUE(item);
  EXPECT_EQ((*item)["status"], "open");
  EXPECT_EQ((*item)["owner"], "bob");
  EXPECT_EQ(store.zrange_by_score(k.person_items("bob"), 0, 2e12),
            std::vector<std::string>{"ASK-1"});
  EXPECT_EQ(client.command({"ZSCORE", k.person_items("bob"), "ASK-1"}).as_string(),
            "1765548000000");
  EXPECT_EQ(store.smembers(k.controls()), std::vector<std::string>{"CC6.1"});
  EXPECT_EQ(store.lrange(k.item_history("ASK-1")),
            std::vector<std::string>{R"({"event":"created"})"});

  auto audit = store.read_audit("-", 10);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].seq, 1);
  EXPECT_EQ(audit[0].ts, "2026-12-05T14:03:07Z");
  EXPECT_EQ(audit[0].actor, "alice");
  EXPECT_EQ(audit[0].action, "ask.created");
  EXPECT_EQ(audit[0].item, "ASK-1");
  EXPECT_EQ(nlohmann::json::parse(audit[0].detail),
            (nlohmann::json{{"owner", "bob"}, {"due", "2026-12-12"}}));
  EXPECT_EQ(audit[0].prev, std::string(64, '0'));
  EXPECT_EQ(audit[0].hash, sha256_hex(canonical_audit_text(audit[0])));
  auto head = store.hgetall(k.audit_head());
  ASSERT_TRUE(head);
  EXPECT_EQ((*head)["seq"], "1");
  EXPECT_EQ((*head)["hash"], audit[0].hash);

  auto outbox = stream(k.outbox_stream());
  ASSERT_EQ(outbox.size(), 1u);
  auto f = fields_of(outbox[0]);
  EXPECT_EQ(f["id"], outbox_id);
  EXPECT_EQ(nlohmann::json::parse(f["message"]).get<Message>(), m);
}

TEST_F(StoreTest, OutboxIdsAreStableAndDistinct) {
  Txn txn;
  std::string a = txn.send(reminder_for("bob"));
  std::string b = txn.send(reminder_for("carol"));
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("ob-", 0), 0u);
  EXPECT_EQ(a.size(), 3u + 32u);
  ASSERT_TRUE(store.commit(txn).ok());
  auto outbox = stream(k.outbox_stream());
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(fields_of(outbox[0])["id"], a);
  EXPECT_EQ(fields_of(outbox[1])["id"], b);
}

TEST_F(StoreTest, DuplicateEventChangesNothingTheSecondTime) {
  auto make = [&](const std::string& status) {
    Txn txn;
    txn.claim_once(k.dedup("Ev123"), 3600s)
        .hset(k.item("ASK-1"), {{"status", status}})
        .audit("bob", "ask.submitted", "ASK-1", {{"status", status}});
    txn.send(reminder_for("alice"));
    return txn;
  };
  EXPECT_TRUE(store.commit(make("submitted")).ok());
  CommitResult again = store.commit(make("changed-by-retry"));
  EXPECT_EQ(again.status, CommitResult::Status::duplicate);
  EXPECT_TRUE(again.audit_seqs.empty());

  EXPECT_EQ((*store.hgetall(k.item("ASK-1")))["status"], "submitted");
  EXPECT_EQ(store.read_audit("-", 10).size(), 1u);
  EXPECT_EQ(stream(k.outbox_stream()).size(), 1u);
  std::int64_t ttl = client.command({"TTL", k.dedup("Ev123")}).as_integer();
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 3600);
}

TEST_F(StoreTest, ConflictWritesNothingAndReturnsWhy) {
  Txn setup;
  setup.hset(k.item("ASK-1"), {{"status", "done"}});
  ASSERT_TRUE(store.commit(setup).ok());

  Txn txn;
  // Writes added before the failing check must not happen either.
  txn.hset(k.item("ASK-2"), {{"status", "open"}})
      .claim_once(k.dedup("Ev9"), 60s)
      .expect_field(k.item("ASK-1"), "status", "open", "ASK-1 is already done")
      .hset(k.item("ASK-1"), {{"status", "submitted"}})
      .audit("bob", "ask.submitted", "ASK-1", nullptr);
  txn.send(reminder_for("alice"));
  CommitResult res = store.commit(txn);
  EXPECT_EQ(res.status, CommitResult::Status::conflict);
  EXPECT_EQ(res.reason, "ASK-1 is already done");

  EXPECT_EQ((*store.hgetall(k.item("ASK-1")))["status"], "done");
  EXPECT_FALSE(store.hgetall(k.item("ASK-2")));
  EXPECT_EQ(client.command({"EXISTS", k.dedup("Ev9")}).as_integer(), 0);
  EXPECT_TRUE(store.read_audit("-", 10).empty());
  EXPECT_FALSE(store.hgetall(k.audit_head()));
  EXPECT_TRUE(stream(k.outbox_stream()).empty());
}

TEST_F(StoreTest, ExistsAbsentAndEmptyFieldPreconditions) {
  {
    Txn t;
    t.expect_exists(k.control("CC6.1"), "no such control").hset(k.control("CC6.1"), {{"a", "b"}});
    auto r = store.commit(t);
    EXPECT_EQ(r.status, CommitResult::Status::conflict);
    EXPECT_EQ(r.reason, "no such control");
  }
  {
    // "" means the field must be absent: passes for a new item.
    Txn t;
    t.expect_absent(k.control("CC6.1"), "exists already")
        .expect_field(k.item("ASK-7"), "status", "", "ASK-7 exists")
        .hset(k.control("CC6.1"), {{"name", "Logical access"}});
    EXPECT_TRUE(store.commit(t).ok());
  }
  {
    Txn t;
    t.expect_absent(k.control("CC6.1"), "CC6.1 exists already").del(k.control("CC6.1"));
    auto r = store.commit(t);
    EXPECT_EQ(r.status, CommitResult::Status::conflict);
    EXPECT_EQ(r.reason, "CC6.1 exists already");
    EXPECT_TRUE(store.hgetall(k.control("CC6.1")));
  }
  {
    Txn t;
    t.expect_exists(k.control("CC6.1"), "gone")
        .hdel(k.control("CC6.1"), {"name"})
        .hset(k.control("CC6.1"), {{"owner", "dana"}});
    EXPECT_TRUE(store.commit(t).ok());
    auto c = store.hgetall(k.control("CC6.1"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->count("name"), 0u);
    EXPECT_EQ((*c)["owner"], "dana");
  }
}

TEST_F(StoreTest, RemovalsApply) {
  Txn add;
  add.zadd(k.person_items("bob"), 5, "ASK-1")
      .sadd(k.controls(), "CC1.1")
      .sadd(k.controls(), "CC2.1");
  ASSERT_TRUE(store.commit(add).ok());
  Txn rm;
  rm.zrem(k.person_items("bob"), "ASK-1").srem(k.controls(), "CC1.1");
  ASSERT_TRUE(store.commit(rm).ok());
  EXPECT_TRUE(store.zrange_by_score(k.person_items("bob"), -1e300, 1e300).empty());
  EXPECT_EQ(store.smembers(k.controls()), std::vector<std::string>{"CC2.1"});
}

TEST_F(StoreTest, EmptyTxnIsANoOp) {
  Txn t;
  EXPECT_TRUE(t.empty());
  EXPECT_TRUE(store.commit(t).ok());
  EXPECT_TRUE(all_keys().empty());
}

TEST_F(StoreTest, EveryKeyCarriesThePrefixAndHashTag) {
  EXPECT_EQ(k.prefix(), "auditbot:{acme}:");
  for (const std::string& key :
       {k.item("ASK-1"), k.item_history("ASK-1"), k.counter("ask"), k.person_items("bob"),
        k.items_of_kind("ask"), k.control("CC6.1"), k.controls(), k.dedup("Ev1"), k.audit_stream(),
        k.audit_head(), k.outbox_stream(), k.message_ref("ask:ASK-1")}) {
    EXPECT_EQ(key.rfind("auditbot:{acme}:", 0), 0u) << key;
  }
  EXPECT_EQ(k.item("ASK-1"), "auditbot:{acme}:item:ASK-1");
  EXPECT_EQ(k.person_items("bob"), "auditbot:{acme}:person:bob:items");

  Txn txn;
  txn.claim_once(k.dedup("Ev1"), 60s)
      .hset(k.item("ASK-1"), {{"status", "open"}})
      .zadd(k.person_items("bob"), 1, "ASK-1")
      .audit("system", "ask.created", "ASK-1", {{"x", 1}});
  txn.send(reminder_for("bob"));
  ASSERT_TRUE(store.commit(txn).ok());
  store.next_number("ask");
  auto keys = all_keys();
  EXPECT_EQ(keys.size(), 7u);
  for (const auto& key : keys) {
    EXPECT_EQ(key.rfind("auditbot:{acme}:", 0), 0u) << key;
  }

  // Every key the script touches is declared in KEYS (Cluster requires it).
  Txn::Encoded enc = txn.encode(k, clock.now());
  std::set<std::string> declared(enc.keys.begin(), enc.keys.end());
  for (const auto& key : {k.dedup("Ev1"), k.item("ASK-1"), k.person_items("bob"), k.audit_stream(),
                          k.audit_head(), k.outbox_stream()}) {
    EXPECT_TRUE(declared.count(key)) << key;
  }
  EXPECT_EQ(enc.ops_json.find("auditbot:"), std::string::npos);  // ops use indexes only
}

TEST_F(StoreTest, KeysOutsideTheOrganisationAreRejected) {
  Txn txn;
  txn.hset("auditbot:{other}:item:ASK-1", {{"a", "b"}});
  EXPECT_THROW(store.commit(txn), std::logic_error);
  EXPECT_TRUE(all_keys().empty());
  EXPECT_THROW(Keys("ac{me"), std::invalid_argument);
  EXPECT_THROW(Keys(""), std::invalid_argument);
}

TEST_F(StoreTest, NextNumberCountsPerKindAndNeverRepeats) {
  EXPECT_EQ(store.next_number("ask"), 1);
  EXPECT_EQ(store.next_number("ask"), 2);
  EXPECT_EQ(store.next_number("gap"), 1);
  EXPECT_EQ(store.next_number("ask"), 3);
}

TEST_F(StoreTest, HgetallManyReturnsMissingAsNullopt) {
  Txn t;
  t.hset(k.item("ASK-1"), {{"status", "open"}}).hset(k.item("ASK-3"), {{"status", "done"}});
  ASSERT_TRUE(store.commit(t).ok());
  auto many = store.hgetall_many({k.item("ASK-1"), k.item("ASK-2"), k.item("ASK-3")});
  ASSERT_EQ(many.size(), 3u);
  ASSERT_TRUE(many[0]);
  EXPECT_EQ((*many[0])["status"], "open");
  EXPECT_FALSE(many[1]);
  ASSERT_TRUE(many[2]);
  EXPECT_EQ((*many[2])["status"], "done");
  EXPECT_TRUE(store.hgetall_many({}).empty());
  EXPECT_FALSE(store.hgetall(k.item("nope")));
}

TEST_F(StoreTest, ZrangeByScoreHonoursRangeAndLimit) {
  Txn t;
  for (int i = 1; i <= 10; ++i) {
    t.zadd(k.person_items("bob"), i * 1000.0, "ASK-" + std::to_string(i));
  }
  ASSERT_TRUE(store.commit(t).ok());
  EXPECT_EQ(store.zrange_by_score(k.person_items("bob"), 2000, 4000),
            (std::vector<std::string>{"ASK-2", "ASK-3", "ASK-4"}));
  EXPECT_EQ(store.zrange_by_score(k.person_items("bob"), 0, 1e9, 2),
            (std::vector<std::string>{"ASK-1", "ASK-2"}));
  EXPECT_TRUE(store.zrange_by_score(k.person_items("nobody"), 0, 1e9).empty());
}

TEST_F(StoreTest, ReadAuditPagesAfterAStreamId) {
  for (int i = 0; i < 5; ++i) {
    Txn t;
    t.audit("system", "tick", "ASK-" + std::to_string(i), nullptr);
    ASSERT_TRUE(store.commit(t).ok());
  }
  auto first = store.read_audit("-", 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].seq, 1);
  EXPECT_EQ(first[1].seq, 2);
  auto next = store.read_audit(first.back().stream_id, 2);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].seq, 3);
  auto rest = store.read_audit(next.back().stream_id, 10);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].seq, 5);
  EXPECT_EQ(rest[0].prev, next[1].hash);
  EXPECT_TRUE(store.read_audit(rest.back().stream_id, 10).empty());
}

TEST_F(StoreTest, SeveralAuditOpsInOneTxnChainInOrder) {
  Txn t;
  t.audit("a", "one", "X-1", nullptr)
      .audit("b", "two", "X-1", nullptr)
      .audit("c", "three", "X-1", nullptr);
  CommitResult r = store.commit(t);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.audit_seqs, (std::vector<std::int64_t>{1, 2, 3}));
  auto all = store.read_audit("-", 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[1].prev, all[0].hash);
  EXPECT_EQ(all[2].prev, all[1].hash);
  EXPECT_EQ(all[2].action, "three");
}

TEST_F(StoreTest, ConcurrentCommitsKeepOneUnbrokenChain) {
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::mutex mu;
  std::set<std::int64_t> seqs;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        Txn txn;
        txn.audit("p" + std::to_string(t), "tick", "I-" + std::to_string(i), {{"i", i}});
        auto r = store.commit(txn);
        std::lock_guard lock(mu);
        seqs.insert(r.audit_seqs.at(0));
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(seqs.size(), 100u);
  EXPECT_EQ(*seqs.begin(), 1);
  EXPECT_EQ(*seqs.rbegin(), 100);
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 100);
}

// ---------------------------------------------------------------- hash parity

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CanonicalAuditText, JoinsFieldsWithNewlines) {
  AuditEntry e;
  e.seq = 12;
  e.ts = "2026-12-05T14:03:07Z";
  e.actor = "bob";
  e.action = "ask.submitted";
  e.item = "ASK-3";
  e.detail = R"({"url":"x"})";
  e.prev = std::string(64, 'a');
  EXPECT_EQ(canonical_audit_text(e),
            "12\n2026-12-05T14:03:07Z\nbob\nask.submitted\nASK-3\n{\"url\":\"x\"}\n" +
                std::string(64, 'a'));
}

TEST_F(StoreTest, LuaSha256EqualsOpenSslForEveryPaddingBoundary) {
  std::vector<std::string> inputs = {"", "abc", "héllo wörld ✓ 🚀", std::string("a\0b", 3),
                                     std::string(1000, 'z')};
  for (std::size_t n = 0; n <= 130; ++n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      s.push_back(static_cast<char>((i * 37 + n) % 256));
    }
    inputs.push_back(s);
  }
  for (const auto& in : inputs) {
    std::string lua = client.eval(lua_sha256_script(), {}, {in}).as_string();
    EXPECT_EQ(lua, sha256_hex(in)) << "length " << in.size();
  }
}

TEST_F(StoreTest, StoredAuditHashEqualsCppHashForTrickyDetails) {
  // A fresh Store knows no audit head, so each of these entries is hashed by the Lua SHA-256.
  auto commit_via_lua = [&](const Txn& t) { return Store(client, "acme", clock).commit(t); };
  std::vector<nlohmann::json> details = {
      nullptr,
      "",
      "line one\nline two\r\n\ttab",
      {{"text", "Zoë signed the policy — ✅ 🎉 日本語"}},
      {{"quote", "she said \"no\" \\ backslash"}, {"ctl", std::string("\x01\x1f", 2)}},
      {{"nested", {{"a", {1, 2.5, true, nullptr}}, {"b", nlohmann::json::object()}}}},
  };
  // Lengths around the 55/56/64 byte padding edges and a multi-block message.
  for (std::size_t n : {0u, 1u, 54u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 121u, 200u}) {
    details.emplace_back(std::string(n, 'x'));
  }
  std::vector<std::string> actors = {"bob", "", "Ünïcødé", "system"};
  for (std::size_t i = 0; i < details.size(); ++i) {
    Txn t;
    t.audit(actors[i % actors.size()], "test.action", i % 3 == 0 ? "" : "ASK-" + std::to_string(i),
            details[i]);
    ASSERT_TRUE(commit_via_lua(t).ok());
    clock.advance(61s);
  }
  // Canonical texts whose total length hits the padding edges exactly.
  for (std::size_t target : {55u, 56u, 64u, 119u, 120u, 128u}) {
    AuditEntry probe;
    probe.seq = static_cast<std::int64_t>(details.size()) + 1;
    probe.ts = format_iso8601(clock.now());
    probe.actor = "a";
    probe.action = "b";
    probe.item = "c";
    probe.prev = std::string(64, '0');
    std::size_t base = canonical_audit_text(probe).size();
    // prev is 64 chars, so the whole text is always > 64; aim at the block containing the end.
    std::size_t want = ((base + 2) / 64 + 1) * 64 + (target % 64);
    ASSERT_GT(want, base + 2);
    Txn t;
    t.audit("a", "b", "c", std::string(want - base - 2, 'q'));  // dump adds the two quotes
    ASSERT_TRUE(commit_via_lua(t).ok());
    details.emplace_back(nullptr);
  }
  auto all = store.read_audit("-", 1000);
  ASSERT_EQ(all.size(), details.size());
  for (const auto& e : all) {
    EXPECT_EQ(e.hash, sha256_hex(canonical_audit_text(e)))
        << "seq " << e.seq << " detail " << e.detail;
  }
  EXPECT_EQ(all[1].detail, "\"\"");
  EXPECT_EQ(all[0].detail, "");
  EXPECT_NE(all[2].detail.find("\\n"), std::string::npos);
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
}

TEST_F(StoreTest, CppHashedAndLuaHashedEntriesFormOneValidChain) {
  // Two writers on one organisation: each one's cached head goes stale whenever the other
  // commits, so the chain mixes entries hashed in C++ (fresh head) and in Lua (stale head).
  Store other(client, "acme", clock);
  for (int i = 0; i < 12; ++i) {
    Store& writer = (i % 3 == 2) ? other : store;
    Txn t;
    t.audit("w" + std::to_string(i % 3), "tick", "ASK-1", {{"i", i}, {"text", "ünï\n"}});
    if (i % 4 == 0) {
      t.audit("system", "tock", "", nullptr);
    }
    ASSERT_TRUE(writer.commit(t).ok());
    clock.advance(1s);
  }
  auto all = store.read_audit("-", 100);
  ASSERT_EQ(all.size(), 15u);
  for (const auto& e : all) {
    EXPECT_EQ(e.hash, sha256_hex(canonical_audit_text(e))) << e.seq;
  }
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 15);
}

TEST_F(StoreTest, StaleHeadAfterExternalResetStillChainsCorrectly) {
  Txn a;
  a.audit("bob", "one", "X", nullptr);
  ASSERT_TRUE(store.commit(a).ok());
  client.command({"FLUSHALL"});  // the cached head now describes a log that is gone
  Txn b;
  b.audit("bob", "two", "X", nullptr);
  EXPECT_EQ(store.commit(b).audit_seqs, std::vector<std::int64_t>{1});
  auto all = store.read_audit("-", 10);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].prev, std::string(64, '0'));
  EXPECT_TRUE(verify_audit_log(store).ok);
}

}  // namespace
}  // namespace auditbot
