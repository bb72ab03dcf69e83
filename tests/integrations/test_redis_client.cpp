// The Redis client against a real redis-server: commands, pipelining, scripts, reconnects,
// typed errors and REDIS_URL parsing.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "integrations/redis/redis_client.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot::redis {
namespace {

using test::RedisServer;

class RedisClientTest : public ::testing::Test {
 protected:
  RedisServer server;
  Options opts() const { return server.client_options(); }
};

TEST_F(RedisClientTest, SetAndGetAreBinarySafe) {
  Client c(opts());
  std::string value("a b\0c %s\r\n\xff", 11);
  EXPECT_EQ(c.command({"SET", "k y", value}).as_string(), "OK");
  Reply r = c.command({"GET", "k y"});
  EXPECT_EQ(r.type, Reply::Type::string);
  EXPECT_EQ(r.as_string(), value);
  EXPECT_EQ(r.as_string().size(), 11u);
}

TEST_F(RedisClientTest, MissingKeyIsNilAndOptional) {
  Client c(opts());
  Reply r = c.command({"GET", "nothing"});
  EXPECT_TRUE(r.is_nil());
  EXPECT_EQ(r.as_optional_string(), std::nullopt);
  c.command({"SET", "some", "x"});
  EXPECT_EQ(c.command({"GET", "some"}).as_optional_string(), "x");
}

TEST_F(RedisClientTest, ErrorRepliesAreReturnedAndThrowOnAccess) {
  Client c(opts());
  c.command({"SET", "word", "hello"});
  Reply r = c.command({"INCR", "word"});
  ASSERT_EQ(r.type, Reply::Type::error);
  EXPECT_NE(r.str.find("not an integer"), std::string::npos);
  EXPECT_THROW(r.as_integer(), ReplyError);
  EXPECT_THROW(r.as_string(), ReplyError);
  // The connection stays usable after an error reply.
  EXPECT_EQ(c.command({"INCR", "n"}).as_integer(), 1);
}

TEST_F(RedisClientTest, PipelineKeepsReplyOrderIncludingErrors) {
  Client c(opts());
  c.command({"SET", "word", "hello"});
  std::vector<Command> cmds;
  cmds.reserve(101);
  for (int i = 0; i < 50; ++i) {
    cmds.push_back({"INCR", "counter"});
  }
  cmds.push_back({"INCR", "word"});  // fails in the middle
  for (int i = 0; i < 50; ++i) {
    cmds.push_back({"INCR", "counter"});
  }
  auto replies = c.pipeline(cmds);
  ASSERT_EQ(replies.size(), 101u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(replies[i].as_integer(), i + 1);
  }
  EXPECT_EQ(replies[50].type, Reply::Type::error);
  for (int i = 51; i < 101; ++i) {
    EXPECT_EQ(replies[i].as_integer(), i);
  }
  EXPECT_TRUE(c.pipeline({}).empty());
}

TEST_F(RedisClientTest, ArraysAndIntegersConvert) {
  Client c(opts());
  c.pipeline({{"RPUSH", "l", "a", "b", "c"}, {"HSET", "h", "f", "v"}});
  Reply r = c.command({"LRANGE", "l", "0", "-1"});
  ASSERT_EQ(r.type, Reply::Type::array);
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_EQ(r.elements[2].as_string(), "c");
  EXPECT_EQ(c.command({"LLEN", "l"}).as_integer(), 3);
  EXPECT_EQ(c.command({"PING"}).type, Reply::Type::status);
}

TEST_F(RedisClientTest, EvalLoadsScriptAndReloadsAfterScriptFlush) {
  Client c(opts());
  Script s("return ARGV[1] .. ':' .. KEYS[1]");
  EXPECT_EQ(s.sha1.size(), 40u);
  // Nothing loaded yet: the first call goes through NOSCRIPT -> SCRIPT LOAD.
  EXPECT_EQ(c.eval(s, {"key"}, {"arg"}).as_string(), "arg:key");
  Reply exists = c.command({"SCRIPT", "EXISTS", s.sha1});
  ASSERT_EQ(exists.elements.size(), 1u);
  EXPECT_EQ(exists.elements[0].as_integer(), 1);

  c.command({"SCRIPT", "FLUSH"});
  EXPECT_EQ(c.command({"SCRIPT", "EXISTS", s.sha1}).elements[0].as_integer(), 0);
  EXPECT_EQ(c.eval(s, {"k2"}, {"again"}).as_string(), "again:k2");
  EXPECT_EQ(c.command({"SCRIPT", "EXISTS", s.sha1}).elements[0].as_integer(), 1);
}

TEST_F(RedisClientTest, ScriptSha1MatchesWhatRedisComputes) {
  Client c(opts());
  Script s("return 1");
  EXPECT_EQ(c.command({"SCRIPT", "LOAD", s.source}).as_string(), s.sha1);
  EXPECT_EQ(s.sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST_F(RedisClientTest, EvalScriptErrorIsReturnedAsErrorReply) {
  Client c(opts());
  Script s("return redis.error_reply('nope')");
  Reply r = c.eval(s, {}, {});
  EXPECT_EQ(r.type, Reply::Type::error);
  EXPECT_NE(r.str.find("nope"), std::string::npos);
}

TEST_F(RedisClientTest, ManyThreadsShareASmallPool) {
  Options o = opts();
  o.pool_size = 2;
  Client c(o);
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        c.command({"INCR", "shared"});
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(c.command({"GET", "shared"}).as_integer(), 800);
}

TEST_F(RedisClientTest, SelectsTheConfiguredDatabase) {
  Options o3 = opts();
  o3.db = 3;
  Client in3(o3);
  Client in0(opts());
  in3.command({"SET", "where", "three"});
  EXPECT_TRUE(in0.command({"GET", "where"}).is_nil());
  EXPECT_EQ(in3.command({"GET", "where"}).as_string(), "three");
}

TEST_F(RedisClientTest, AuthenticatesWithPasswordAndHidesItOnFailure) {
  Client admin(opts());
  ASSERT_EQ(admin.command({"CONFIG", "SET", "requirepass", "s3cr3t-pw"}).as_string(), "OK");

  Options good = opts();
  good.password = "s3cr3t-pw";
  Client authed(good);
  EXPECT_EQ(authed.command({"SET", "a", "1"}).as_string(), "OK");

  Client anonymous(opts());
  Reply r = anonymous.command({"GET", "a"});
  EXPECT_EQ(r.type, Reply::Type::error);
  EXPECT_NE(r.str.find("NOAUTH"), std::string::npos);

  Options bad = opts();
  bad.password = "wrong-pw-123";
  Client wrong(bad);
  try {
    wrong.command({"GET", "a"});
    FAIL() << "expected an error";
  } catch (const IoError&) {
    FAIL() << "a wrong password is not an I/O error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("wrong-pw-123"), std::string::npos);
  }
}

TEST_F(RedisClientTest, ReconnectsAfterServerRestart) {
  Client c(opts());
  EXPECT_EQ(c.command({"SET", "before", "1"}).as_string(), "OK");
  server.restart();
  // The pooled connection died with the old server; the client notices before writing.
  EXPECT_EQ(c.command({"GET", "before"}).as_string(), "1");
  EXPECT_TRUE(c.ping());
}

TEST_F(RedisClientTest, ReconnectsAfterServerCrash) {
  Options o = opts();
  o.pool_size = 1;
  Client c(o);
  EXPECT_EQ(c.command({"SET", "x", "1"}).as_string(), "OK");
  server.kill();
  server.restart();
  EXPECT_EQ(c.command({"GET", "x"}).as_string(), "1");  // AOF with fsync always keeps it
}

TEST_F(RedisClientTest, ServerDownIsIoErrorAndPingFalseThenRecovers) {
  Options o = opts();
  o.max_attempts = 3;
  Client c(o);
  EXPECT_TRUE(c.ping());
  server.stop();
  EXPECT_THROW(c.command({"GET", "x"}), IoError);
  EXPECT_THROW(c.pipeline({{"GET", "x"}}), IoError);
  EXPECT_THROW(c.eval(Script("return 1"), {}, {}), IoError);
  EXPECT_FALSE(c.ping());
  server.restart();
  EXPECT_TRUE(c.ping());
  EXPECT_EQ(c.command({"INCR", "after"}).as_integer(), 1);
}

TEST_F(RedisClientTest, ReadTimeoutIsTimeoutErrorAndConnectionIsReplaced) {
  Options o = opts();
  o.command_timeout = std::chrono::milliseconds(200);
  o.pool_size = 1;
  Client c(o);
  EXPECT_THROW(c.command({"BLPOP", "empty-list", "2"}), TimeoutError);
  EXPECT_EQ(c.command({"PING"}).as_string(), "PONG");
}

TEST_F(RedisClientTest, CommandIsNotResentWhenTheConnectionFailsAfterWriting) {
  Options o = opts();
  o.command_timeout = std::chrono::milliseconds(200);
  Client c(o);
  // Runs INCR, then keeps the server busy past the client's timeout.
  Script slow(
      "redis.call('INCR', KEYS[1])\n"
      "local start = redis.call('TIME')\n"
      "while true do\n"
      "  local now = redis.call('TIME')\n"
      "  local ms = (now[1] - start[1]) * 1000 + (now[2] - start[2]) / 1000\n"
      "  if ms > 600 then break end\n"
      "end\n"
      "return 1");
  c.command({"SCRIPT", "LOAD", slow.source});
  EXPECT_THROW(c.eval(slow, {"runs"}, {}), IoError);
  Options patient = opts();
  Client check(patient);
  EXPECT_EQ(check.command({"GET", "runs"}).as_integer(), 1);
}

// ---------------------------------------------------------------- from_url

TEST(RedisOptionsFromUrl, FullUrl) {
  Options o = Options::from_url("redis://:p%40ss@cache.internal:6380/2");
  EXPECT_EQ(o.host, "cache.internal");
  EXPECT_EQ(o.port, 6380);
  EXPECT_EQ(o.db, 2);
  EXPECT_EQ(o.password, "p@ss");
}

TEST(RedisOptionsFromUrl, DefaultsForPortAndDb) {
  Options o = Options::from_url("redis://redis");
  EXPECT_EQ(o.host, "redis");
  EXPECT_EQ(o.port, 6379);
  EXPECT_EQ(o.db, 0);
  EXPECT_TRUE(o.password.empty());

  Options o2 = Options::from_url("redis://127.0.0.1:7000");
  EXPECT_EQ(o2.port, 7000);
  EXPECT_EQ(o2.db, 0);

  Options o3 = Options::from_url("redis://127.0.0.1:7000/");
  EXPECT_EQ(o3.db, 0);

  Options o4 = Options::from_url("redis://default:pw@h/5");
  EXPECT_EQ(o4.password, "pw");
  EXPECT_EQ(o4.port, 6379);
  EXPECT_EQ(o4.db, 5);
}

TEST(RedisOptionsFromUrl, Ipv6Literal) {
  Options o = Options::from_url("redis://[::1]:6390/1");
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, 6390);
  EXPECT_EQ(o.db, 1);
}

TEST(RedisOptionsFromUrl, RejectsBadUrlsWithClearMessages) {
  auto message = [](std::string_view url) {
    try {
      Options::from_url(url);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("<accepted>");
  };
  EXPECT_NE(message("http://redis:6379").find("redis://"), std::string::npos);
  EXPECT_NE(message("rediss://redis:6379").find("TLS"), std::string::npos);
  EXPECT_NE(message("redis://redis:abc").find("port"), std::string::npos);
  EXPECT_NE(message("redis://redis:0").find("port"), std::string::npos);
  EXPECT_NE(message("redis://redis:70000").find("port"), std::string::npos);
  EXPECT_NE(message("redis://redis:").find("port"), std::string::npos);
  EXPECT_NE(message("redis://").find("host"), std::string::npos);
  EXPECT_NE(message("redis://:pw@:6379").find("host"), std::string::npos);
  EXPECT_NE(message("redis://redis/x").find("database"), std::string::npos);
  EXPECT_NE(message("redis://redis:6379/0?timeout=1").find("query"), std::string::npos);
  EXPECT_NE(message("redis://alice:pw@redis").find("user"), std::string::npos);
  EXPECT_NE(message("redis://:p%zz@redis").find('%'), std::string::npos);
  EXPECT_NE(message("redis://[::1:6379").find(']'), std::string::npos);
}

TEST(RedisOptionsFromUrl, ErrorsNeverEchoThePassword) {
  for (const char* url : {"redis://:topsecret@redis:99999", "redis://:topsecret@redis/abc",
                          "redis://x:topsecret@redis"}) {
    try {
      Options::from_url(url);
      ADD_FAILURE() << "accepted a bad url";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace auditbot::redis
