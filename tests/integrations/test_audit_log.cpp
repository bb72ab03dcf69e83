// The audit trail's hash chain: verification passes on an honest log, names the first
// tampered, removed or truncated entry, and the log survives a Redis restart (AOF).
#include <gtest/gtest.h>

#include <functional>

#include "integrations/redis/store.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

using namespace std::chrono_literals;

class AuditLogTest : public ::testing::Test {
 protected:
  test::RedisServer server;
  redis::Client client{server.client_options()};
  FakeClock clock{TimePoint(std::chrono::seconds(1796479387))};  // 2026-12-05T14:03:07Z
  Store store{client, "acme", clock};

  // Appends `n` entries, one commit each, an hour apart.
  void append(int n) {
    for (int i = 0; i < n; ++i) {
      Txn t;
      t.audit("bob", "ask.submitted", "ASK-" + std::to_string(i + 1),
              {{"url", "https://evidence.example/" + std::to_string(i)}});
      ASSERT_TRUE(store.commit(t).ok());
      clock.advance(1h);
    }
  }

  struct RawEntry {
    std::string id;
    std::vector<std::pair<std::string, std::string>> fields;
  };

  std::vector<RawEntry> raw_entries() {
    std::vector<RawEntry> out;
    for (const auto& e :
         client.command({"XRANGE", store.keys().audit_stream(), "-", "+"}).elements) {
      RawEntry r;
      r.id = e.elements[0].str;
      const auto& fv = e.elements[1].elements;
      for (std::size_t i = 0; i + 1 < fv.size(); i += 2) {
        r.fields.emplace_back(fv[i].str, fv[i + 1].str);
      }
      out.push_back(std::move(r));
    }
    return out;
  }

  // What an attacker with write access would do: rebuild the stream, same ids, one edit.
  void rewrite_stream(const std::function<void(RawEntry&)>& edit) {
    auto entries = raw_entries();
    client.command({"DEL", store.keys().audit_stream()});
    for (auto& e : entries) {
      edit(e);
      redis::Command cmd{"XADD", store.keys().audit_stream(), e.id};
      for (auto& [f, v] : e.fields) {
        cmd.push_back(f);
        cmd.push_back(v);
      }
      ASSERT_EQ(client.command(cmd).as_string(), e.id);
    }
  }

  static std::string& field(RawEntry& e, const std::string& name) {
    for (auto& [f, v] : e.fields) {
      if (f == name) {
        return v;
      }
    }
    throw std::runtime_error("no field " + name);
  }
};

TEST_F(AuditLogTest, EmptyLogVerifies) {
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 0);
}

TEST_F(AuditLogTest, HonestChainVerifies) {
  append(25);
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 25);
  auto all = store.read_audit("-", 100);
  ASSERT_EQ(all.size(), 25u);
  EXPECT_EQ(v.head_hash, all.back().hash);
  EXPECT_EQ(all[24].ts, "2026-12-06T14:03:07Z");
}

TEST_F(AuditLogTest, LongChainVerifiesAcrossReadChunks) {
  // 2,100 entries: the verifier reads 1,000 at a time, so this crosses two chunk edges.
  for (int batch = 0; batch < 70; ++batch) {
    Txn t;
    for (int i = 0; i < 30; ++i) {
      t.audit("system", "tick", "T-" + std::to_string(i), {{"b", batch}});
    }
    ASSERT_TRUE(store.commit(t).ok());
  }
  auto v = verify_audit_log(store);
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 2100);
}

TEST_F(AuditLogTest, ChangedDetailIsNamed) {
  append(6);
  std::string third_id = raw_entries()[2].id;
  rewrite_stream([](RawEntry& e) {
    if (field(e, "seq") == "3") {
      field(e, "detail") = R"({"url":"https://forged.example/"})";
    }
  });
  ASSERT_EQ(store.read_audit("-", 10)[2].detail, R"({"url":"https://forged.example/"})");
  auto v = verify_audit_log(store);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_EQ(v.broken_stream_id, third_id);
  EXPECT_EQ(v.problem, "entry 3: hash does not match its contents");
}

TEST_F(AuditLogTest, RehashedEntryBreaksTheLinkToTheNext) {
  append(6);
  // A smarter forger also recomputes entry 3's own hash; entry 4 still points at the old one.
  rewrite_stream([](RawEntry& e) {
    if (field(e, "seq") != "3") {
      return;
    }
    field(e, "actor") = "mallory";
    AuditEntry a;
    a.seq = 3;
    a.ts = field(e, "ts");
    a.actor = field(e, "actor");
    a.action = field(e, "action");
    a.item = field(e, "item");
    a.detail = field(e, "detail");
    a.prev = field(e, "prev");
    field(e, "hash") = sha256_hex(canonical_audit_text(a));
  });
  auto v = verify_audit_log(store);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 4);
  EXPECT_EQ(v.problem, "entry 4: prev does not match entry 3");
}

TEST_F(AuditLogTest, DeletedMiddleEntryIsNamed) {
  append(6);
  auto entries = raw_entries();
  ASSERT_EQ(client.command({"XDEL", store.keys().audit_stream(), entries[2].id}).as_integer(), 1);
  auto v = verify_audit_log(store);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_EQ(v.broken_stream_id, entries[3].id);
  EXPECT_EQ(v.problem, "entry 3 missing (seq jumps from 2 to 4)");
}

TEST_F(AuditLogTest, DeletedLastEntryIsCaughtByTheHead) {
  append(9);
  auto entries = raw_entries();
  client.command({"XDEL", store.keys().audit_stream(), entries.back().id});
  auto v = verify_audit_log(store);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 9);
  EXPECT_EQ(v.problem, "head says 9 entries, stream ends at 8");
}

TEST_F(AuditLogTest, DeletedFirstEntryIsNamed) {
  append(3);
  client.command({"XDEL", store.keys().audit_stream(), raw_entries()[0].id});
  auto v = verify_audit_log(store);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 1);
  EXPECT_EQ(v.problem, "entry 1 missing (seq jumps from 0 to 2)");
}

TEST_F(AuditLogTest, SurvivesRedisRestartWithAof) {
  append(5);
  auto before = verify_audit_log(store);
  ASSERT_TRUE(before.ok);
  server.restart();
  auto after = verify_audit_log(store);
  EXPECT_TRUE(after.ok) << after.problem;
  EXPECT_EQ(after.entries, 5);
  EXPECT_EQ(after.head_hash, before.head_hash);

  // A crash (SIGKILL) loses nothing either: appendfsync always.
  append(2);
  server.kill();
  server.restart();
  auto crashed = verify_audit_log(store);
  EXPECT_TRUE(crashed.ok) << crashed.problem;
  EXPECT_EQ(crashed.entries, 7);

  // The chain continues where it left off.
  Txn t;
  t.audit("alice", "policy.approved", "POL-1", nullptr);
  EXPECT_EQ(store.commit(t).audit_seqs, std::vector<std::int64_t>{8});
  EXPECT_TRUE(verify_audit_log(store).ok);
}

}  // namespace
}  // namespace auditbot
