// A thread-safe Redis client over hiredis: a small pool of connections that reconnect with
// backoff, pipelining, Lua scripts loaded once (EVALSHA, reloaded on NOSCRIPT), typed errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace auditbot::redis {

// Error hierarchy: callers catch what they can act on.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class IoError : public Error {  // connection refused/lost; the command may not have run
 public:
  using Error::Error;
};
class TimeoutError : public IoError {
 public:
  using IoError::IoError;
};
class ReplyError : public Error {  // Redis answered "-ERR ..." (message without the dash)
 public:
  using Error::Error;
};

struct Reply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string str;  // string, status or error text
  std::vector<Reply> elements;

  bool is_nil() const { return type == Type::nil; }
  // Throws ReplyError when type == error; returns str for string/status.
  const std::string& as_string() const;
  std::int64_t as_integer() const;
  std::optional<std::string> as_optional_string() const;  // nil -> nullopt
};

using Command = std::vector<std::string>;

struct Options {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;  // never logged
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{5000};
  std::size_t pool_size = 4;
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  int max_attempts = 5;  // connection attempts per call before IoError
  // A server still loading its AOF/RDB after a restart answers -LOADING (nothing ran): the
  // call is retried with backoff for this long before the LOADING reply is returned.
  std::chrono::milliseconds loading_timeout{30000};
  // Sentinel mode: when set, host/port are asked from these sentinels (host:port) for
  // `master_name` on every (re)connect, so a failover is followed.
  std::vector<std::string> sentinels;
  std::string master_name;

  // redis://[:password@]host:port/db ; throws std::invalid_argument naming the problem.
  static Options from_url(std::string_view url);
};

// A Lua script identified by its SHA1; loaded once per connection on first NOSCRIPT.
struct Script {
  std::string source;
  std::string sha1;  // computed from source
  explicit Script(std::string src);
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // One command; a Reply of type error is returned, not thrown (callers decide).
  Reply command(const Command& cmd);
  // Many commands in one round trip; replies in order.
  std::vector<Reply> pipeline(const std::vector<Command>& cmds);
  // EVALSHA with automatic SCRIPT LOAD on NOSCRIPT.
  Reply eval(const Script& script, const std::vector<std::string>& keys,
             const std::vector<std::string>& args);
  bool ping();  // true when a PING round trip succeeds now

  const Options& options() const { return options_; }

 private:
  Reply command_once(const Command& cmd);
  std::vector<Reply> pipeline_once(const std::vector<Command>& cmds);
  Reply eval_once(const Script& script, const Command& cmd);

  struct Pool;
  Options options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace auditbot::redis
