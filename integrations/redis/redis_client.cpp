// hiredis-backed Redis client: a fixed pool of blocking connections, each used by one
// thread at a time, reconnected with jittered exponential backoff.
#include "integrations/redis/redis_client.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <tuple>

namespace auditbot::redis {

// ---------------------------------------------------------------- Reply helpers

const std::string& Reply::as_string() const {
  switch (type) {
    case Type::string:
    case Type::status:
      return str;
    case Type::error:
      throw ReplyError(str);
    case Type::nil:
      throw Error("expected a string reply, got nil");
    case Type::integer:
      throw Error("expected a string reply, got an integer");
    case Type::array:
      throw Error("expected a string reply, got an array");
  }
  throw Error("unknown reply type");
}

std::int64_t Reply::as_integer() const {
  switch (type) {
    case Type::integer:
      return integer;
    case Type::error:
      throw ReplyError(str);
    case Type::string:
    case Type::status: {
      // Some commands (HGET of a counter, Lua tostring) hand numbers back as text.
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
      if (ec == std::errc() && ptr == str.data() + str.size() && !str.empty()) {
        return v;
      }
      throw Error("expected an integer reply, got a non-numeric string");
    }
    case Type::nil:
      throw Error("expected an integer reply, got nil");
    case Type::array:
      throw Error("expected an integer reply, got an array");
  }
  throw Error("unknown reply type");
}

std::optional<std::string> Reply::as_optional_string() const {
  if (type == Type::nil) {
    return std::nullopt;
  }
  return as_string();
}

// ---------------------------------------------------------------- Options::from_url

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Passwords may carry reserved characters percent-encoded (RFC 3986).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        throw std::invalid_argument("REDIS_URL: the password has a broken %-escape");
      }
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) {
        throw std::invalid_argument("REDIS_URL: the password has a broken %-escape");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

Options Options::from_url(std::string_view url) {
  // Messages never echo the URL: it may hold the password.
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, 9) == "rediss://") {
    throw std::invalid_argument("REDIS_URL: rediss:// (TLS) is not supported; use redis://");
  }
  if (url.substr(0, scheme.size()) != scheme) {
    throw std::invalid_argument(
        "REDIS_URL must start with redis:// (redis://[:password@]host:port/db)");
  }
  std::string_view rest = url.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    throw std::invalid_argument("REDIS_URL: query parameters are not supported");
  }
  Options o;

  // Authority ends at the first '/'; the password may not contain a raw '/'.
  std::string_view authority = rest;
  std::string_view path;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      throw std::invalid_argument(
          "REDIS_URL: put the password after a colon (redis://:password@host:port/db)");
    }
    std::string_view user = userinfo.substr(0, colon);
    if (!user.empty() && user != "default") {
      throw std::invalid_argument("REDIS_URL: user names other than 'default' are not supported");
    }
    o.password = percent_decode(userinfo.substr(colon + 1));
  }

  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal: [::1]:6379
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("REDIS_URL: IPv6 address is missing its closing ']'");
    }
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        throw std::invalid_argument("REDIS_URL: unexpected text after the host");
      }
      port = after.substr(1);
      if (port.empty()) {
        throw std::invalid_argument("REDIS_URL: the port after ':' is empty");
      }
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) {
      throw std::invalid_argument("REDIS_URL: the port after ':' is empty");
    }
  }
  if (host.empty()) {
    throw std::invalid_argument("REDIS_URL: the host is missing");
  }
  o.host = std::string(host);

  if (!port.empty()) {
    if (!all_digits(port) || port.size() > 5) {
      throw std::invalid_argument("REDIS_URL: the port must be a number from 1 to 65535");
    }
    int p = std::stoi(std::string(port));
    if (p < 1 || p > 65535) {
      throw std::invalid_argument("REDIS_URL: the port must be a number from 1 to 65535");
    }
    o.port = p;
  } else {
    o.port = 6379;
  }

  if (!path.empty()) {
    if (!all_digits(path) || path.size() > 5) {
      throw std::invalid_argument("REDIS_URL: the database after '/' must be a number (e.g. /0)");
    }
    o.db = std::stoi(std::string(path));
  }
  return o;
}

// ---------------------------------------------------------------- Script

namespace {
std::string sha1_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA1 failed");
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(len) * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(digits[md[i] >> 4]);
    out.push_back(digits[md[i] & 0xf]);
  }
  return out;
}
}  // namespace

Script::Script(std::string src) : source(std::move(src)), sha1(sha1_hex(source)) {}

// ---------------------------------------------------------------- the pool

namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const {
    if (c) {
      redisFree(c);
    }
  }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r) {
      freeReplyObject(r);
    }
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply convert(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert(r->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::nil;
      break;
  }
  return out;
}

bool looks_like_timeout(int saved_errno, const char* errstr) {
  if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT) {
    return true;
  }
  return std::strstr(errstr, "timed out") != nullptr ||
         std::strstr(errstr, "temporarily unavailable") != nullptr;
}

// Throws the typed I/O error for a context that failed after a command was written.
[[noreturn]] void throw_io(const redisContext* c, int saved_errno, const char* what) {
  std::string msg = std::string("redis: ") + what + ": " + (c ? c->errstr : "no connection");
  if (c && looks_like_timeout(saved_errno, c->errstr)) {
    throw TimeoutError(msg);
  }
  throw IoError(msg);
}

// A peer that closed an idle connection (server restart, idle timeout) shows up as a readable
// socket while we have nothing outstanding; catching it before writing makes a reconnect safe.
bool idle_connection_is_dead(const redisContext* c) {
  pollfd p{};
  p.fd = c->fd;
  p.events = POLLIN;
  int rc = ::poll(&p, 1, 0);
  if (rc < 0) {
    return true;
  }
  if (rc == 0) {
    return false;
  }
  return (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void ignore_sigpipe_once() {
  // hiredis 0.14 writes with write(2), so a peer reset would otherwise kill the process.
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      struct sigaction ign {};
      ign.sa_handler = SIG_IGN;
      sigemptyset(&ign.sa_mask);
      ::sigaction(SIGPIPE, &ign, nullptr);
    }
  });
}

std::chrono::milliseconds jittered_backoff(const Options& o, int attempt) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  auto base = std::max<std::int64_t>(o.backoff_min.count(), 1);
  auto cap = std::max<std::int64_t>(o.backoff_max.count(), base);
  std::int64_t d = base;
  for (int i = 0; i < attempt && d < cap; ++i) {
    d *= 2;
  }
  d = std::min(d, cap);
  // "Equal jitter": half fixed, half random, so replicas do not reconnect in lockstep.
  std::uniform_int_distribution<std::int64_t> dist(d / 2, d);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace

struct Client::Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ContextPtr> slots;      // one per pool member; null = not connected
  std::vector<std::size_t> free_ids;  // indices of slots nobody holds
};

namespace {

// RAII hold on one pool slot; returned to the pool (connected or not) on destruction.
class Lease {
 public:
  Lease(std::mutex& mu, std::condition_variable& cv, std::vector<ContextPtr>& slots,
        std::vector<std::size_t>& free_ids)
      : mu_(mu), cv_(cv), slots_(slots), free_ids_(free_ids) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_ids_.empty(); });
    id_ = free_ids_.back();
    free_ids_.pop_back();
    ctx_ = std::move(slots_[id_]);
  }
  ~Lease() {
    {
      std::lock_guard lock(mu_);
      slots_[id_] = std::move(ctx_);
      free_ids_.push_back(id_);
    }
    cv_.notify_one();
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  ContextPtr& ctx() { return ctx_; }

 private:
  std::mutex& mu_;
  std::condition_variable& cv_;
  std::vector<ContextPtr>& slots_;
  std::vector<std::size_t>& free_ids_;
  std::size_t id_ = 0;
  ContextPtr ctx_;
};

// Sends one command and reads its reply on an already connected context.
ReplyPtr round_trip(redisContext* c, const Command& cmd) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(cmd.size());
  lens.reserve(cmd.size());
  for (const auto& a : cmd) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  void* raw = redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
  return ReplyPtr(static_cast<redisReply*>(raw));
}

// Asks the sentinels, in order, where the master called `o.master_name` is now.
std::pair<std::string, int> master_from_sentinels(const Options& o) {
  for (const auto& s : o.sentinels) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string host = s.substr(0, colon);
    int port = 0;
    const auto* first = s.data() + colon + 1;
    if (std::from_chars(first, s.data() + s.size(), port).ec != std::errc()) continue;
    ContextPtr c(redisConnectWithTimeout(host.c_str(), port, to_timeval(o.connect_timeout)));
    if (!c || c->err) continue;
    redisSetTimeout(c.get(), to_timeval(o.connect_timeout));
    ReplyPtr r = round_trip(c.get(), {"SENTINEL", "get-master-addr-by-name", o.master_name});
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
      int master_port = 0;
      const std::string p(r->element[1]->str, r->element[1]->len);
      std::from_chars(p.data(), p.data() + p.size(), master_port);
      return {std::string(r->element[0]->str, r->element[0]->len), master_port};
    }
  }
  throw IoError("redis: no sentinel knows master '" + o.master_name + "'");
}

// Opens, authenticates and selects; throws IoError/TimeoutError (retryable) or Error (not).
ContextPtr open_connection(const Options& o) {
  std::string host = o.host;
  int port = o.port;
  if (!o.sentinels.empty()) std::tie(host, port) = master_from_sentinels(o);
  ContextPtr c(redisConnectWithTimeout(host.c_str(), port, to_timeval(o.connect_timeout)));
  int saved_errno = errno;
  if (!c) {
    throw IoError("redis: cannot allocate a connection");
  }
  if (c->err) {
    throw_io(c.get(), saved_errno, "connect failed");
  }
  if (o.command_timeout.count() > 0) {
    redisSetTimeout(c.get(), to_timeval(o.command_timeout));
  }
  redisEnableKeepAlive(c.get());
  if (!o.password.empty()) {
    ReplyPtr r = round_trip(c.get(), {"AUTH", o.password});
    saved_errno = errno;
    if (!r) {
      throw_io(c.get(), saved_errno, "AUTH failed");
    }
    if (r->type == REDIS_REPLY_ERROR) {
      // Not retried: a wrong password does not get better with backoff. Reply text omitted
      // on purpose so nothing password-related reaches a log.
      throw Error("redis: authentication failed");
    }
  }
  if (!o.sentinels.empty()) {
    // Right after a failover a sentinel may still name the old master, now a replica.
    ReplyPtr r = round_trip(c.get(), {"ROLE"});
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
        std::string(r->element[0]->str, r->element[0]->len) != "master") {
      throw IoError("redis: " + host + ":" + std::to_string(port) + " is not the master yet");
    }
  }
  if (o.db != 0) {
    ReplyPtr r = round_trip(c.get(), {"SELECT", std::to_string(o.db)});
    saved_errno = errno;
    if (!r) {
      throw_io(c.get(), saved_errno, "SELECT failed");
    }
    if (r->type == REDIS_REPLY_ERROR) {
      throw Error("redis: cannot select database " + std::to_string(o.db) + ": " +
                  std::string(r->str, r->len));
    }
  }
  return c;
}

// Makes sure the lease holds a live connection, reconnecting up to `attempts` times.
void ensure_connected(ContextPtr& ctx, const Options& o, int attempts) {
  if (ctx && (ctx->err || idle_connection_is_dead(ctx.get()))) {
    ctx.reset();
  }
  if (ctx) {
    return;
  }
  attempts = std::max(attempts, 1);
  bool last_was_timeout = false;
  std::string last_error;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(jittered_backoff(o, attempt - 1));
    }
    try {
      ctx = open_connection(o);
      return;
    } catch (const TimeoutError& e) {
      last_was_timeout = true;
      last_error = e.what();
    } catch (const IoError& e) {
      last_was_timeout = false;
      last_error = e.what();
    }
  }
  std::string msg = "redis: cannot connect to " + o.host + ":" + std::to_string(o.port) +
                    " after " + std::to_string(attempts) + " attempts (" + last_error + ")";
  if (last_was_timeout) {
    throw TimeoutError(msg);
  }
  throw IoError(msg);
}

}  // namespace

Client::Client(Options options) : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  ignore_sigpipe_once();
  std::size_t n = std::max<std::size_t>(options_.pool_size, 1);
  pool_->slots.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    pool_->free_ids.push_back(n - 1 - i);
  }
}

Client::~Client() = default;

namespace {

bool is_loading(const Reply& r) {
  return r.type == Reply::Type::error && r.str.rfind("LOADING", 0) == 0;
}

bool is_loading(const std::vector<Reply>& replies) {
  // Only when every reply says so: a pipeline that partly ran must not run again.
  return !replies.empty() &&
         std::all_of(replies.begin(), replies.end(), [](const Reply& r) { return is_loading(r); });
}

// Runs `once` again while the server answers -LOADING (it ran nothing), up to the options'
// loading_timeout; the connection goes back to the pool between tries.
template <typename F>
auto retry_while_loading(const Options& o, F once) {
  const auto deadline = std::chrono::steady_clock::now() + o.loading_timeout;
  for (int attempt = 0;; ++attempt) {
    auto result = once();
    if (!is_loading(result) || std::chrono::steady_clock::now() >= deadline) {
      return result;
    }
    std::this_thread::sleep_for(jittered_backoff(o, attempt));
  }
}

}  // namespace

Reply Client::command(const Command& cmd) {
  if (cmd.empty()) {
    throw std::invalid_argument("redis: empty command");
  }
  return retry_while_loading(options_, [&] { return command_once(cmd); });
}

Reply Client::command_once(const Command& cmd) {
  Lease lease(pool_->mu, pool_->cv, pool_->slots, pool_->free_ids);
  ensure_connected(lease.ctx(), options_, options_.max_attempts);
  ReplyPtr r = round_trip(lease.ctx().get(), cmd);
  int saved_errno = errno;
  if (!r) {
    // The command may have reached the server: never resend it, let the caller decide.
    ContextPtr dead = std::move(lease.ctx());
    throw_io(dead.get(), saved_errno, "command failed");
  }
  return convert(r.get());
}

std::vector<Reply> Client::pipeline(const std::vector<Command>& cmds) {
  if (cmds.empty()) {
    return {};
  }
  return retry_while_loading(options_, [&] { return pipeline_once(cmds); });
}

std::vector<Reply> Client::pipeline_once(const std::vector<Command>& cmds) {
  std::vector<Reply> out;
  Lease lease(pool_->mu, pool_->cv, pool_->slots, pool_->free_ids);
  ensure_connected(lease.ctx(), options_, options_.max_attempts);
  redisContext* c = lease.ctx().get();
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const auto& cmd : cmds) {
    if (cmd.empty()) {
      lease.ctx().reset();  // drop the half-built output buffer
      throw std::invalid_argument("redis: empty command in pipeline");
    }
    argv.clear();
    lens.clear();
    for (const auto& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      ContextPtr dead = std::move(lease.ctx());
      throw_io(dead.get(), errno, "pipeline append failed");
    }
  }
  out.reserve(cmds.size());
  for (std::size_t i = 0; i < cmds.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) {
      int saved_errno = errno;
      ContextPtr dead = std::move(lease.ctx());
      throw_io(dead.get(), saved_errno, "pipeline failed");
    }
    ReplyPtr r(static_cast<redisReply*>(raw));
    out.push_back(convert(r.get()));
  }
  return out;
}

Reply Client::eval(const Script& script, const std::vector<std::string>& keys,
                   const std::vector<std::string>& args) {
  Command cmd;
  cmd.reserve(3 + keys.size() + args.size());
  cmd.push_back("EVALSHA");
  cmd.push_back(script.sha1);
  cmd.push_back(std::to_string(keys.size()));
  cmd.insert(cmd.end(), keys.begin(), keys.end());
  cmd.insert(cmd.end(), args.begin(), args.end());

  return retry_while_loading(options_, [&] { return eval_once(script, cmd); });
}

Reply Client::eval_once(const Script& script, const Command& cmd) {
  Lease lease(pool_->mu, pool_->cv, pool_->slots, pool_->free_ids);
  ensure_connected(lease.ctx(), options_, options_.max_attempts);
  auto run = [&](const Command& c) {
    ReplyPtr r = round_trip(lease.ctx().get(), c);
    int saved_errno = errno;
    if (!r) {
      ContextPtr dead = std::move(lease.ctx());
      throw_io(dead.get(), saved_errno, "script call failed");
    }
    return convert(r.get());
  };
  Reply reply = run(cmd);
  // NOSCRIPT means nothing ran, so loading and calling again is safe.
  if (reply.type == Reply::Type::error && reply.str.rfind("NOSCRIPT", 0) == 0) {
    Reply loaded = run({"SCRIPT", "LOAD", script.source});
    if (loaded.type == Reply::Type::error) {
      return loaded;
    }
    if (loaded.str != script.sha1) {
      throw Error("redis: SCRIPT LOAD returned an unexpected sha1");
    }
    reply = run(cmd);
  }
  return reply;
}

bool Client::ping() {
  try {
    Lease lease(pool_->mu, pool_->cv, pool_->slots, pool_->free_ids);
    ensure_connected(lease.ctx(), options_, 1);
    ReplyPtr r = round_trip(lease.ctx().get(), {"PING"});
    if (!r) {
      lease.ctx().reset();
      return false;
    }
    return r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace auditbot::redis
