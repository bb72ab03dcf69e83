// Loads auditbot.yaml: environment overrides are written onto the YAML tree first, then one
// strict reader walks the tree, records every key it consumed and rejects the rest.
#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <date/date.h>
#include <date/tz.h>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "bot/errors.hpp"
#include "bot/text.hpp"

namespace auditbot {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::admin:
      return "admin";
    case Role::liaison:
      return "liaison";
    case Role::approver:
      return "approver";
    case Role::auditor:
      return "auditor";
  }
  return "unknown";
}

namespace {

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      comma = s.size();
    }
    auto item = trim(s.substr(start, comma - start));
    if (!item.empty()) {
      out.push_back(std::move(item));
    }
    start = comma + 1;
  }
  return out;
}

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto dot = path.find('.', start);
    out.emplace_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) {
      return out;
    }
    start = dot + 1;
  }
}

// AUDITBOT_<PATH>: segments upper-cased and joined by "__".
std::string generic_env_name(std::string_view path) {
  std::string out = "AUDITBOT_";
  for (char c : path) {
    if (c == '.') {
      out += "__";
    } else {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

bool is_zone(const std::string& tz) {
  if (tz.empty()) {
    return false;
  }
  try {
    return date::locate_zone(tz) != nullptr;
  } catch (const std::exception&) {
    return false;
  }
}

// Where keys come from: the file (with line numbers) or an environment variable.
class Origin {
 public:
  explicit Origin(std::string file) : file_(std::move(file)) {}

  void set_env(const std::string& path, const std::string& var) { env_[path] = var; }

  // The environment variable that set `path` (or one of its parents), if any.
  const std::string* env_of(const std::string& path) const {
    for (const auto& [p, var] : env_) {
      if (path == p || (path.size() > p.size() && path.compare(0, p.size(), p) == 0 &&
                        (path[p.size()] == '[' || path[p.size()] == '.'))) {
        return &var;
      }
    }
    return nullptr;
  }

  bool from_env(const std::string& path) const { return env_of(path) != nullptr; }

  [[noreturn]] void fail(const std::string& path, const YAML::Node& at,
                         const std::string& problem) const {
    std::string msg = label() + ": " + path;
    if (const auto* var = env_of(path)) {
      msg += " (from " + *var + ")";
    }
    msg += ": " + problem;
    throw ConfigError(msg + line_of(path, at));
  }

  [[noreturn]] void fail_plain(const std::string& problem) const {
    throw ConfigError(label() + ": " + problem);
  }

  std::string line_of(const std::string& path, const YAML::Node& at) const {
    if (file_.empty() || from_env(path) || !at.IsDefined()) {
      return {};
    }
    auto mark = at.Mark();
    if (mark.is_null() || mark.line < 0) {
      return {};
    }
    return " (line " + std::to_string(mark.line + 1) + ")";
  }

  std::string label() const { return file_.empty() ? std::string("configuration") : file_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  std::map<std::string, std::string> env_;
};

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    default:
      return "nothing";
  }
}

// A map being read: every key read is marked consumed; finish() rejects the leftovers.
class MapReader {
 public:
  MapReader(const Origin& origin, const YAML::Node& node, std::string path)
      : origin_(origin), path_(std::move(path)) {
    if (!node.IsDefined() || node.IsNull()) {
      return;
    }
    if (!node.IsMap()) {
      origin_.fail(path_.empty() ? std::string("top level") : path_, node,
                   "expected a map, got " + describe(node));
    }
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        origin_.fail(path_.empty() ? std::string("top level") : path_, kv.first,
                     "keys must be plain names");
      }
      auto key = kv.first.Scalar();
      for (const auto& [k, v] : entries_) {
        if (k == key) {
          origin_.fail(child(key), kv.first, "key appears twice");
        }
      }
      entries_.emplace_back(key, kv.second);
    }
  }

  const Origin& origin() const { return origin_; }
  const std::string& path() const { return path_; }
  std::string child(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  // The value at `key`, or an undefined node when absent. Marks the key consumed.
  YAML::Node take(const std::string& key) {
    consumed_.insert(key);
    for (const auto& [k, v] : entries_) {
      if (k == key) {
        return v;
      }
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  // All keys, for maps whose keys are free names (channels).
  std::vector<std::pair<std::string, YAML::Node>> take_all() {
    for (const auto& [k, v] : entries_) {
      consumed_.insert(k);
    }
    return entries_;
  }

  // A scalar as text; absent or null leaves `out` alone.
  bool str(const std::string& key, std::string& out) {
    auto n = take(key);
    return scalar(child(key), n, out);
  }

  bool scalar(const std::string& path, const YAML::Node& n, std::string& out) const {
    if (!n.IsDefined() || n.IsNull()) {
      return false;
    }
    if (!n.IsScalar()) {
      origin_.fail(path, n, "expected a single value, got " + describe(n));
    }
    out = n.Scalar();
    return true;
  }

  bool integer(const std::string& key, long long& out, long long min, long long max) {
    std::string text;
    auto n = take(key);
    if (!scalar(child(key), n, text)) {
      return false;
    }
    long long v = 0;
    const char* b = text.data();
    const char* e = b + text.size();
    if (b != e && *b == '+') {
      ++b;
    }
    auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || ptr != e || b == e) {
      origin_.fail(child(key), n, "expected a whole number, got '" + text + "'");
    }
    if (v < min || v > max) {
      origin_.fail(child(key), n,
                   "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                       ", got " + std::to_string(v));
    }
    out = v;
    return true;
  }

  // A list of scalars; absent or null leaves `out` alone.
  bool str_list(const std::string& key, std::vector<std::string>& out) {
    auto n = take(key);
    auto p = child(key);
    if (!n.IsDefined() || n.IsNull()) {
      return false;
    }
    if (!n.IsSequence()) {
      origin_.fail(p, n, "expected a list, got " + describe(n));
    }
    std::vector<std::string> items;
    std::size_t i = 0;
    for (const auto& item : n) {
      std::string v;
      auto ip = p + "[" + std::to_string(i++) + "]";
      if (!scalar(ip, item, v)) {
        origin_.fail(ip, item, "empty list entry");
      }
      items.push_back(std::move(v));
    }
    out = std::move(items);
    return true;
  }

  // Reads a nested map with `fn`, then rejects its unknown keys.
  template <typename Fn>
  void map(const std::string& key, Fn&& fn) {
    MapReader sub(origin_, take(key), child(key));
    fn(sub);
    sub.finish();
  }

  void finish() const {
    std::vector<std::string> unknown;
    YAML::Node first_key;
    std::string first_path;
    for (const auto& [k, v] : entries_) {
      if (consumed_.count(k) == 0) {
        if (unknown.empty()) {
          first_path = child(k);
          first_key = v;
        }
        unknown.push_back("'" + child(k) + "'");
      }
    }
    if (unknown.empty()) {
      return;
    }
    std::string msg = unknown.size() == 1 ? "unknown key " : "unknown keys ";
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      msg += (i > 0 ? ", " : "") + unknown[i];
    }
    origin_.fail_plain(msg + origin_.line_of(first_path, first_key));
  }

 private:
  const Origin& origin_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> entries_;
  std::set<std::string> consumed_;
};

// ---- environment ------------------------------------------------------------------------

struct EnvKey {
  const char* path;
  bool list;          // comma-separated in the environment
  const char* alias;  // the SPEC name, or nullptr when only the generic name exists
};

constexpr EnvKey kEnvKeys[] = {
    {"org.id", false, nullptr},
    {"org.name", false, nullptr},
    {"org.timezone", false, nullptr},
    {"listen", false, "AUDITBOT_LISTEN"},
    {"log.level", false, "AUDITBOT_LOG_LEVEL"},
    {"log.format", false, "AUDITBOT_LOG_FORMAT"},
    {"log.file", false, "AUDITBOT_LOG_FILE"},
    {"redis.url", false, "REDIS_URL"},
    {"redis.sentinels", true, "REDIS_SENTINELS"},
    {"redis.master_name", false, "REDIS_MASTER_NAME"},
    {"admin_token", false, "AUDITBOT_ADMIN_TOKEN"},
    {"ca_file", false, "AUDITBOT_CA_FILE"},
    {"http.body_limit", false, nullptr},
    {"http.header_limit", false, nullptr},
    {"http.read_timeout_seconds", false, nullptr},
    {"outbox.reclaim_after_seconds", false, nullptr},
    {"slack.bot_token", false, "SLACK_BOT_TOKEN"},
    {"slack.signing_secret", false, "SLACK_SIGNING_SECRET"},
    {"slack.app_token", false, "SLACK_APP_TOKEN"},
    {"slack.api_url", false, "SLACK_API_URL"},
    {"slack.track_emoji", false, nullptr},
    {"teams.app_id", false, "TEAMS_APP_ID"},
    {"teams.app_password", false, "TEAMS_APP_PASSWORD"},
    {"teams.tenant_id", false, "TEAMS_TENANT_ID"},
    {"teams.openid_metadata_url", false, "TEAMS_OPENID_METADATA_URL"},
    {"teams.token_url", false, "TEAMS_TOKEN_URL"},
    {"teams.service_url_allowlist", true, "TEAMS_SERVICE_URL_ALLOWLIST"},
    {"working_hours.start", false, nullptr},
    {"working_hours.end", false, nullptr},
    {"working_hours.days", true, nullptr},
    {"holidays", true, nullptr},
    {"controls_file", false, nullptr},
    {"evidence.default_sla_business_days", false, nullptr},
    {"reminders.before_due_business_days", true, nullptr},
    {"reminders.overdue_every_business_days", false, nullptr},
    {"reminders.overdue_every_business_days_critical", false, nullptr},
    {"reminders.snooze_max", false, nullptr},
    {"reminders.snooze_business_days", false, nullptr},
    {"reminders.escalate_manager_after_business_days", false, nullptr},
    {"reminders.escalate_leadership_after_business_days", false, nullptr},
    {"reports.audit_window_start", false, nullptr},
    {"reports.readiness_days_before", true, nullptr},
    {"reports.digest_day", false, nullptr},
    {"reports.digest_hour", false, nullptr},
    {"evidence.refresh_lead_days", false, nullptr},
    {"evidence.hook_status", false, nullptr},
    {"observation_window.start", false, nullptr},
    {"observation_window.end", false, nullptr},
    {"requests.sla_business_days", false, nullptr},
};

// The whole file, or nullopt when it cannot be read (missing, a directory, no permission).
std::optional<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    return std::nullopt;
  }
  return content;
}

// NAME or the content of the file named by NAME_FILE; empty values count as unset.
std::optional<std::string> env_value(const EnvLookup& env, const std::string& name) {
  auto direct = env(name);
  auto file = env(name + "_FILE");
  bool has_direct = direct && !direct->empty();
  bool has_file = file && !file->empty();
  if (has_direct && has_file) {
    throw ConfigError("environment: both " + name + " and " + name + "_FILE are set; set only one");
  }
  if (has_direct) {
    return direct;
  }
  if (!has_file) {
    return std::nullopt;
  }
  auto content = read_file(*file);
  if (!content) {
    throw ConfigError("environment: " + name + "_FILE: cannot read the file '" + *file + "'");
  }
  auto value = std::move(*content);
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) {
    value.pop_back();
  }
  if (value.empty()) {
    return std::nullopt;
  }
  return value;
}

// Writes `value` at the dotted `path`, creating the maps on the way.
void set_path(Origin& origin, YAML::Node& root, const std::string& path, const YAML::Node& value,
              const std::string& var) {
  auto segs = split_path(path);
  YAML::Node cur;
  cur.reset(root);
  std::string walked;
  for (std::size_t i = 0; i + 1 < segs.size(); ++i) {
    if (!walked.empty()) {
      walked += '.';
    }
    walked += segs[i];
    YAML::Node next = cur[segs[i]];
    if (!next.IsDefined() || next.IsNull()) {
      cur[segs[i]] = YAML::Node(YAML::NodeType::Map);
      next.reset(cur[segs[i]]);
    } else if (!next.IsMap()) {
      origin.fail(walked, next, "expected a map, got " + describe(next));
    }
    cur.reset(next);
  }
  cur[segs.back()] = value;
  origin.set_env(path, var);
}

void apply_env(Origin& origin, YAML::Node& root, const EnvLookup& env) {
  auto apply = [&](const std::string& path, bool list, const std::string& name) {
    auto value = env_value(env, name);
    if (!value) {
      return;
    }
    YAML::Node node;
    if (list) {
      node = YAML::Node(YAML::NodeType::Sequence);
      for (auto& item : split_list(*value)) {
        node.push_back(item);
      }
    } else {
      node = YAML::Node(*value);
    }
    set_path(origin, root, path, node, name);
  };
  for (const auto& k : kEnvKeys) {
    auto generic = generic_env_name(k.path);
    apply(k.path, k.list, generic);
    // The SPEC name is applied last, so it wins over the generic spelling.
    if (k.alias != nullptr && generic != k.alias) {
      apply(k.path, k.list, k.alias);
    }
  }
  // Channel ids: the well-known names plus every name the file already has.
  std::set<std::string> channels{"compliance", "auditor", "leadership"};
  auto ch = root["channels"];
  if (ch.IsDefined() && ch.IsMap()) {
    for (const auto& kv : ch) {
      if (kv.first.IsScalar()) {
        channels.insert(kv.first.Scalar());
      }
    }
  }
  for (const auto& name : channels) {
    auto path = "channels." + name;
    apply(path, false, generic_env_name(path));
  }
}

// ---- validation helpers -----------------------------------------------------------------

bool parse_host_port(std::string_view s, bool allow_zero_port) {
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) {
    return false;
  }
  auto host = s.substr(0, colon);
  if (host.front() == '[' && host.back() != ']') {
    return false;
  }
  if (host.find_first_of(" \t/") != std::string_view::npos) {
    return false;
  }
  if (host.front() != '[' && host.find(':') != std::string_view::npos) {
    return false;  // a bare IPv6 address needs brackets
  }
  auto port_text = s.substr(colon + 1);
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size()) {
    return false;
  }
  return port >= (allow_zero_port ? 0 : 1) && port <= 65535;
}

bool is_http_url(std::string_view s) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (s.size() > scheme.size() && lower(s.substr(0, scheme.size())) == scheme) {
      return true;
    }
  }
  return false;
}

// "09:00" -> 540; "24:00" only when allowed (the end of the day).
std::optional<int> parse_hhmm(std::string_view s, bool allow_24) {
  if (s.size() != 5 || s[2] != ':') {
    return std::nullopt;
  }
  for (std::size_t i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24))) {
    return std::nullopt;
  }
  return h * 60 + m;
}

bool valid_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
      return false;
    }
  }
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  std::chrono::year_month_day ymd{std::chrono::year(num(0, 4)),
                                  std::chrono::month(static_cast<unsigned>(num(5, 2))),
                                  std::chrono::day(static_cast<unsigned>(num(8, 2)))};
  return ymd.ok();
}

std::optional<int> parse_weekday(std::string_view s) {
  static const char* const kShort[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  static const char* const kLong[] = {"monday", "tuesday",  "wednesday", "thursday",
                                      "friday", "saturday", "sunday"};
  auto l = lower(s);
  for (int i = 0; i < 7; ++i) {
    if (l == kShort[i] || l == kLong[i]) {
      return i + 1;
    }
  }
  return std::nullopt;
}

bool valid_person_id(std::string_view id) {
  if (id.empty() || !std::isalnum(static_cast<unsigned char>(id.front()))) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool valid_org_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

// The password part of redis://[user][:password]@host..., or empty.
std::string redis_password(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return {};
  }
  auto rest = url.substr(scheme + 3);
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  auto at = authority.rfind('@');
  if (at == std::string_view::npos) {
    return {};
  }
  auto userinfo = authority.substr(0, at);
  auto colon = userinfo.find(':');
  return std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
}

// Relative paths in the file are relative to the file; from the environment, to the cwd.
std::string resolve_path(const Origin& origin, const std::string& path, const std::string& value) {
  if (value.empty() || origin.file().empty() || origin.from_env(path)) {
    return value;
  }
  std::filesystem::path p(value);
  if (p.is_absolute()) {
    return value;
  }
  return (std::filesystem::path(origin.file()).parent_path() / p).lexically_normal().string();
}

// ---- the reader -------------------------------------------------------------------------

// working_hours: (the organisation's, or a person's own starting from the organisation's).
void read_hours(MapReader& r, WorkingHours& wh) {
  std::string text;
  if (r.str("start", text)) {
    auto m = parse_hhmm(text, false);
    if (!m) {
      r.origin().fail(r.child("start"), r.take("start"),
                      "'" + text + "' is not a time of day HH:MM");
    }
    wh.start_minute = *m;
  }
  if (r.str("end", text)) {
    auto m = parse_hhmm(text, true);
    if (!m) {
      r.origin().fail(r.child("end"), r.take("end"), "'" + text + "' is not a time of day HH:MM");
    }
    wh.end_minute = *m;
  }
  if (wh.start_minute >= wh.end_minute) {
    r.origin().fail(r.child("end"), r.take("end"), "must be later than working_hours.start");
  }
  std::vector<std::string> days;
  if (r.str_list("days", days)) {
    wh.days.clear();
    for (const auto& d : days) {
      auto wd = parse_weekday(d);
      if (!wd) {
        r.origin().fail(r.child("days"), r.take("days"),
                        "unknown day '" + d + "' (expected mon, tue, wed, thu, fri, sat, sun)");
      }
      wh.days.insert(*wd);
    }
    if (wh.days.empty()) {
      r.origin().fail(r.child("days"), r.take("days"), "needs at least one day");
    }
  }
}

void read_people(MapReader& root, Config& cfg) {
  const auto& origin = root.origin();
  auto list = root.take("people");
  if (!list.IsDefined() || list.IsNull()) {
    return;
  }
  if (!list.IsSequence()) {
    origin.fail("people", list, "expected a list, got " + describe(list));
  }
  std::map<std::string, std::string> ids, emails, slack_ids, teams_ids;  // value -> label
  std::vector<std::pair<std::string, YAML::Node>> managers;              // label -> node
  std::size_t index = 0;
  for (const auto& entry : list) {
    std::string base = "people[" + std::to_string(index++) + "]";
    PersonConfig p;
    {
      MapReader probe(origin, entry, base);
      auto id_node = probe.take("id");
      if (!probe.scalar(base + ".id", id_node, p.id) || p.id.empty()) {
        origin.fail(base + ".id", entry, "every person needs an id");
      }
      if (!valid_person_id(p.id)) {
        origin.fail(base + ".id", id_node,
                    "'" + p.id + "' is not a valid id (letters, digits, '.', '_', '-')");
      }
    }
    std::string label = base + " (" + p.id + ")";
    MapReader r(origin, entry, label);
    r.take("id");
    auto unique = [&](std::map<std::string, std::string>& seen, const std::string& key,
                      const std::string& value, const char* what) {
      if (value.empty()) {
        return;
      }
      auto [it, inserted] = seen.emplace(lower(value), label);
      if (!inserted) {
        origin.fail(
            r.child(key), r.take(key),
            std::string("duplicate ") + what + " '" + value + "' (also " + it->second + ")");
      }
    };
    unique(ids, "id", p.id, "person id");
    r.str("name", p.name);
    if (p.name.empty()) {
      p.name = p.id;
    }
    if (r.str("email", p.email) && !p.email.empty()) {
      auto at = p.email.find('@');
      if (at == std::string::npos || at == 0 || at + 1 == p.email.size() ||
          p.email.find_first_of(" \t<>") != std::string::npos) {
        origin.fail(r.child("email"), r.take("email"), "'" + p.email + "' is not an email address");
      }
    }
    unique(emails, "email", p.email, "email");
    std::vector<std::string> roles;
    r.str_list("roles", roles);
    for (const auto& name : roles) {
      auto role = parse_role(name);
      if (!role) {
        origin.fail(r.child("roles"), r.take("roles"),
                    "unknown role '" + name + "' (expected admin, liaison, approver or auditor)");
      }
      p.roles.insert(*role);
    }
    if (r.str("timezone", p.timezone) && !p.timezone.empty() && !is_zone(p.timezone)) {
      origin.fail(r.child("timezone"), r.take("timezone"),
                  "unknown time zone '" + p.timezone + "'");
    }
    if (r.str("manager", p.manager) && !p.manager.empty()) {
      if (lower(p.manager) == lower(p.id)) {
        origin.fail(r.child("manager"), r.take("manager"), "a person cannot be their own manager");
      }
      managers.emplace_back(r.child("manager"), r.take("manager"));
    }
    r.str_list("groups", p.groups);
    r.str("slack_id", p.slack_id);
    unique(slack_ids, "slack_id", p.slack_id, "slack_id");
    r.str("teams_id", p.teams_id);
    unique(teams_ids, "teams_id", p.teams_id, "teams_id");
    if (auto hours = r.take("working_hours"); hours.IsDefined() && !hours.IsNull()) {
      MapReader w(origin, hours, r.child("working_hours"));
      WorkingHours own = cfg.working_hours;
      read_hours(w, own);
      w.finish();
      p.working_hours = own;
    }
    r.finish();
    cfg.people.push_back(std::move(p));
  }
  for (std::size_t i = 0, m = 0; i < cfg.people.size(); ++i) {
    const auto& p = cfg.people[i];
    if (p.manager.empty()) {
      continue;
    }
    const auto& [path, node] = managers[m++];
    if (ids.count(lower(p.manager)) == 0) {
      origin.fail(path, node, "unknown manager '" + p.manager + "' (not a person id)");
    }
  }
}

// The policy library; runs after read_people so owners and audience groups can be checked.
void read_policies(MapReader& root, Config& cfg) {
  const auto& origin = root.origin();
  std::set<std::string> groups, ids, person_ids;
  for (const auto& p : cfg.people) {
    person_ids.insert(lower(p.id));
    for (const auto& g : p.groups)
      groups.insert(g);
  }
  root.map("policies", [&](MapReader& r) {
    long long n = 0;
    if (r.integer("ack_days", n, 1, 365)) cfg.policy_ack_days = static_cast<int>(n);
    if (r.integer("review_notice_days", n, 1, 365))
      cfg.policy_review_notice_days = static_cast<int>(n);
    auto list = r.take("library");
    if (!list.IsDefined() || list.IsNull()) return;
    if (!list.IsSequence())
      origin.fail("policies.library", list, "expected a list, got " + describe(list));
    std::size_t index = 0;
    for (const auto& entry : list) {
      const std::string base = "policies.library[" + std::to_string(index++) + "]";
      MapReader e(origin, entry, base);
      PolicyConfig p;
      auto need = [&](const char* key, std::string& out) {
        if (!e.str(key, out) || out.empty())
          origin.fail(e.child(key), entry, std::string("every policy needs ") + key);
      };
      need("id", p.id);
      if (!valid_person_id(p.id))
        origin.fail(e.child("id"), e.take("id"),
                    "'" + p.id + "' is not a valid id (letters, digits, '.', '_', '-')");
      if (!ids.insert(lower(p.id)).second)
        origin.fail(e.child("id"), e.take("id"), "duplicate policy id '" + p.id + "'");
      need("title", p.title);
      need("version", p.version);
      if (p.version.find_first_of(" |/") != std::string::npos)
        origin.fail(e.child("version"), e.take("version"), "a version has no spaces, '|' or '/'");
      need("owner", p.owner);
      if (person_ids.count(lower(p.owner)) == 0)
        origin.fail(e.child("owner"), e.take("owner"),
                    "unknown owner '" + p.owner + "' (not a person id)");
      need("url", p.url);
      e.str("sha256", p.sha256);
      e.str("text_file", p.text_file);
      p.text_file = resolve_path(origin, base + ".text_file", p.text_file);
      if (p.sha256.empty() == p.text_file.empty())
        origin.fail(base, entry, "give exactly one of sha256 or text_file");
      if (!p.sha256.empty()) {
        p.sha256 = lower(p.sha256);
        if (p.sha256.size() != 64 ||
            p.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
          origin.fail(e.child("sha256"), e.take("sha256"), "expected 64 hex digits");
      }
      for (const char* key : {"effective", "next_review"}) {
        std::string& out = std::string_view(key) == "effective" ? p.effective : p.next_review;
        need(key, out);
        if (!valid_date(out))
          origin.fail(e.child(key), e.take(key), "'" + out + "' is not a date YYYY-MM-DD");
      }
      auto audience = e.take("audience");
      if (audience.IsDefined() && !audience.IsNull()) {
        if (audience.IsScalar() && audience.Scalar() == "everyone") {
        } else if (audience.IsSequence()) {
          for (const auto& g : audience) {
            if (!g.IsScalar() || groups.count(g.Scalar()) == 0)
              origin.fail(e.child("audience"), g,
                          "unknown group '" + (g.IsScalar() ? g.Scalar() : std::string("?")) +
                              "' (no person is in it)");
            p.audience.push_back(g.Scalar());
          }
        } else {
          origin.fail(e.child("audience"), audience, "expected everyone or a list of groups");
        }
      }
      e.finish();
      cfg.policies.push_back(std::move(p));
    }
  });
}

// A list of whole numbers in [lo, hi] (reminder offsets, report days).
std::vector<int> int_list(const Origin& origin, MapReader& r, const std::string& key, int lo,
                          int hi) {
  std::vector<std::string> raw;
  std::vector<int> out;
  if (!r.str_list(key, raw)) return out;
  for (const auto& t : raw) {
    int v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size() || v < lo || v > hi) {
      origin.fail(r.child(key), r.take(key),
                  "'" + t + "' is not a whole number between " + std::to_string(lo) + " and " +
                      std::to_string(hi));
    }
    out.push_back(v);
  }
  return out;
}

// reminders: and reports: (the engine, issue 7).
void read_engine(const Origin& origin, MapReader& root, Config& cfg) {
  long long n = 0;
  root.map("reminders", [&](MapReader& r) {
    auto before = int_list(origin, r, "before_due_business_days", 1, 60);
    if (!before.empty()) cfg.reminders.before_due = before;
    auto& rc = cfg.reminders;
    if (r.integer("overdue_every_business_days", n, 1, 30)) rc.overdue_every = int(n);
    if (r.integer("overdue_every_business_days_critical", n, 1, 30)) {
      rc.overdue_every_critical = int(n);
    }
    if (r.integer("snooze_max", n, 0, 20)) rc.snooze_max = int(n);
    if (r.integer("snooze_business_days", n, 1, 30)) rc.snooze_business_days = int(n);
    if (r.integer("escalate_manager_after_business_days", n, 1, 60)) {
      rc.escalate_manager_after = int(n);
    }
    if (r.integer("escalate_leadership_after_business_days", n, 1, 120)) {
      rc.escalate_leadership_after = int(n);
    }
    if (rc.escalate_leadership_after <= rc.escalate_manager_after) {
      origin.fail("reminders.escalate_leadership_after_business_days",
                  r.take("escalate_leadership_after_business_days"),
                  "must be later than escalate_manager_after_business_days");
    }
    // cadence: [{kind, severity, before_due_business_days, on_due, overdue_every_business_days,
    //            escalate_manager_after_business_days, escalate_leadership_after_business_days}]
    auto list = r.take("cadence");
    if (list.IsDefined() && !list.IsNull()) {
      if (!list.IsSequence()) {
        origin.fail("reminders.cadence", list, "expected a list, got " + describe(list));
      }
      std::size_t i = 0;
      for (const auto& entry : list) {
        MapReader c(origin, entry, "reminders.cadence[" + std::to_string(i++) + "]");
        CadenceRule rule;
        c.str("kind", rule.kind);
        c.str("severity", rule.severity);
        rule.before_due = int_list(origin, c, "before_due_business_days", 1, 60);
        std::string on_due;
        if (c.str("on_due", on_due)) {
          if (on_due != "true" && on_due != "false") {
            origin.fail(c.child("on_due"), c.take("on_due"), "expected true or false");
          }
          rule.on_due = on_due == "true";
        }
        if (c.integer("overdue_every_business_days", n, 1, 30)) rule.overdue_every = int(n);
        if (c.integer("escalate_manager_after_business_days", n, 1, 60)) {
          rule.escalate_manager_after = int(n);
        }
        if (c.integer("escalate_leadership_after_business_days", n, 1, 120)) {
          rule.escalate_leadership_after = int(n);
        }
        const int mgr =
            rule.escalate_manager_after ? rule.escalate_manager_after : rc.escalate_manager_after;
        const int lead = rule.escalate_leadership_after ? rule.escalate_leadership_after
                                                        : rc.escalate_leadership_after;
        if (lead <= mgr) {
          origin.fail(c.child("escalate_leadership_after_business_days"), entry,
                      "must be later than the manager step");
        }
        c.finish();
        rc.cadence.push_back(std::move(rule));
      }
    }
  });
  root.map("reports", [&](MapReader& r) {
    if (r.str("audit_window_start", cfg.reports.audit_window_start) &&
        !valid_date(cfg.reports.audit_window_start)) {
      origin.fail("reports.audit_window_start", r.take("audit_window_start"),
                  "'" + cfg.reports.audit_window_start + "' is not a date YYYY-MM-DD");
    }
    auto days = int_list(origin, r, "readiness_days_before", 1, 365);
    if (!days.empty()) cfg.reports.readiness_days_before = days;
    std::string day;
    if (r.str("digest_day", day)) {
      auto wd = parse_weekday(day);
      if (!wd) {
        origin.fail("reports.digest_day", r.take("digest_day"),
                    "unknown day '" + day + "' (expected mon, tue, wed, thu, fri, sat, sun)");
      }
      cfg.reports.digest_weekday = *wd;
    }
    if (r.integer("digest_hour", n, 0, 23)) cfg.reports.digest_hour = int(n);
  });
}

void read_config(MapReader& root, Config& cfg) {
  const auto& origin = root.origin();
  long long n = 0;

  root.map("org", [&](MapReader& r) {
    if (r.str("id", cfg.org_id) && !valid_org_id(cfg.org_id)) {
      origin.fail("org.id", r.take("id"),
                  "'" + cfg.org_id + "' is not a valid id (letters, digits, '.', '_', '-')");
    }
    r.str("name", cfg.org_name);
    if (r.str("timezone", cfg.org_timezone) && !is_zone(cfg.org_timezone)) {
      origin.fail("org.timezone", r.take("timezone"),
                  "unknown time zone '" + cfg.org_timezone + "'");
    }
  });

  if (root.str("listen", cfg.listen) && !parse_host_port(cfg.listen, true)) {
    origin.fail("listen", root.take("listen"),
                "'" + cfg.listen + "' is not host:port (for example 0.0.0.0:8080)");
  }

  root.map("log", [&](MapReader& r) {
    if (r.str("level", cfg.log_level)) {
      auto l = lower(trim(cfg.log_level));
      if (l == "warning") {
        l = "warn";
      }
      static const std::set<std::string> kLevels{"trace", "debug", "info", "warn", "error", "off"};
      if (kLevels.count(l) == 0) {
        origin.fail("log.level", r.take("level"),
                    "unknown level '" + cfg.log_level +
                        "' (expected trace, debug, info, warn, error or off)");
      }
      cfg.log_level = l;
    }
    if (r.str("format", cfg.log_format)) {
      auto f = lower(trim(cfg.log_format));
      if (f != "text" && f != "json") {
        origin.fail("log.format", r.take("format"),
                    "unknown format '" + cfg.log_format + "' (expected text or json)");
      }
      cfg.log_format = f;
    }
    r.str("file", cfg.log_file);
    cfg.log_file = resolve_path(origin, "log.file", cfg.log_file);
  });

  root.map("redis", [&](MapReader& r) {
    if (r.str("url", cfg.redis_url)) {
      // The URL may carry a password, so the message never repeats it.
      auto l = lower(cfg.redis_url);
      bool ok = (l.rfind("redis://", 0) == 0 && l.size() > 8) ||
                (l.rfind("rediss://", 0) == 0 && l.size() > 9);
      if (!ok) {
        origin.fail("redis.url", r.take("url"),
                    "expected redis://[:password@]host:port/db or rediss://...");
      }
    }
    if (r.str_list("sentinels", cfg.redis_sentinels)) {
      for (std::size_t i = 0; i < cfg.redis_sentinels.size(); ++i) {
        if (!parse_host_port(cfg.redis_sentinels[i], false)) {
          origin.fail("redis.sentinels[" + std::to_string(i) + "]", r.take("sentinels"),
                      "'" + cfg.redis_sentinels[i] + "' is not host:port");
        }
      }
    }
    r.str("master_name", cfg.redis_master_name);
  });
  if (!cfg.redis_sentinels.empty() && cfg.redis_master_name.empty()) {
    origin.fail("redis.master_name", root.take("redis"), "required when redis.sentinels is set");
  }

  root.str("admin_token", cfg.admin_token);
  root.str("ca_file", cfg.ca_file);
  cfg.ca_file = resolve_path(origin, "ca_file", cfg.ca_file);

  root.map("http", [&](MapReader& r) {
    if (r.integer("body_limit", n, 1, 1LL << 34)) {
      cfg.http_body_limit = static_cast<std::size_t>(n);
    }
    if (r.integer("header_limit", n, 1, 1LL << 24)) {
      cfg.http_header_limit = static_cast<std::size_t>(n);
    }
    if (r.integer("read_timeout_seconds", n, 1, 86400)) {
      cfg.http_read_timeout = std::chrono::seconds(n);
    }
  });

  root.map("outbox", [&](MapReader& r) {
    if (r.integer("reclaim_after_seconds", n, 1, 86400)) {
      cfg.outbox_reclaim_after = std::chrono::seconds(n);
    }
  });

  root.map("slack", [&](MapReader& r) {
    r.str("bot_token", cfg.slack_bot_token);
    r.str("signing_secret", cfg.slack_signing_secret);
    r.str("app_token", cfg.slack_app_token);
    if (r.str("track_emoji", cfg.slack_track_emoji)) {
      // Slack names reactions without colons ("pushpin"); accept ":pushpin:" too.
      const auto& e = cfg.slack_track_emoji;
      if (e.size() > 2 && e.front() == ':' && e.back() == ':') {
        cfg.slack_track_emoji = e.substr(1, e.size() - 2);
      }
    }
    if (r.str("api_url", cfg.slack_api_url)) {
      if (!is_http_url(cfg.slack_api_url)) {
        origin.fail("slack.api_url", r.take("api_url"),
                    "'" + cfg.slack_api_url + "' is not an http(s) URL");
      }
      // Method names are appended to it, so it always ends in a slash.
      if (cfg.slack_api_url.back() != '/') {
        cfg.slack_api_url += '/';
      }
    }
  });

  root.map("teams", [&](MapReader& r) {
    r.str("app_id", cfg.teams_app_id);
    r.str("app_password", cfg.teams_app_password);
    r.str("tenant_id", cfg.teams_tenant_id);
    for (auto [key, field] : {std::pair{"openid_metadata_url", &cfg.teams_openid_metadata_url},
                              std::pair{"token_url", &cfg.teams_token_url}}) {
      if (r.str(key, *field) && !is_http_url(*field)) {
        origin.fail(r.child(key), r.take(key), "'" + *field + "' is not an http(s) URL");
      }
    }
    if (r.str_list("service_url_allowlist", cfg.teams_service_url_allowlist)) {
      for (std::size_t i = 0; i < cfg.teams_service_url_allowlist.size(); ++i) {
        if (!is_http_url(cfg.teams_service_url_allowlist[i])) {
          origin.fail("teams.service_url_allowlist[" + std::to_string(i) + "]",
                      r.take("service_url_allowlist"),
                      "'" + cfg.teams_service_url_allowlist[i] + "' is not an http(s) URL");
        }
      }
    }
  });

  root.map("channels", [&](MapReader& r) {
    for (const auto& [name, node] : r.take_all()) {
      std::string id;
      if (!r.scalar(r.child(name), node, id) || id.empty()) {
        origin.fail(r.child(name), node, "expected a channel id");
      }
      cfg.channels[name] = id;
    }
  });

  root.map("working_hours", [&](MapReader& r) { read_hours(r, cfg.working_hours); });

  if (root.str_list("holidays", cfg.holidays)) {
    for (std::size_t i = 0; i < cfg.holidays.size(); ++i) {
      if (!valid_date(cfg.holidays[i])) {
        origin.fail("holidays[" + std::to_string(i) + "]", root.take("holidays"),
                    "'" + cfg.holidays[i] + "' is not a date YYYY-MM-DD");
      }
    }
  }

  root.str("controls_file", cfg.controls_file);
  cfg.controls_file = resolve_path(origin, "controls_file", cfg.controls_file);

  root.map("evidence", [&](MapReader& r) {
    if (r.integer("default_sla_business_days", n, 1, 365)) {
      cfg.evidence_default_sla_business_days = static_cast<int>(n);
    }
    if (r.integer("refresh_lead_days", n, 0, 365)) {
      cfg.evidence_refresh_lead_days = static_cast<int>(n);
    }
    if (r.str("hook_status", cfg.evidence_hook_status)) {
      cfg.evidence_hook_status = lower(trim(cfg.evidence_hook_status));
      if (cfg.evidence_hook_status != "accepted" && cfg.evidence_hook_status != "in_review") {
        origin.fail("evidence.hook_status", r.take("hook_status"),
                    "expected accepted or in_review");
      }
    }
    auto hooks = r.take("hooks");
    if (hooks.IsDefined() && !hooks.IsNull()) {
      if (!hooks.IsSequence()) {
        origin.fail("evidence.hooks", hooks, "expected a list, got " + describe(hooks));
      }
      std::size_t i = 0;
      std::set<std::string> ids;
      for (const auto& node : hooks) {
        const auto path = "evidence.hooks[" + std::to_string(i++) + "]";
        MapReader h(origin, node, path);
        EvidenceHookConfig hook;
        h.str("id", hook.id);
        h.str("secret", hook.secret);
        h.finish();
        if (hook.id.empty() || !ids.insert(hook.id).second) {
          origin.fail(path + ".id", node, "needs a unique id");
        }
        if (hook.secret.size() < 16) {
          origin.fail(path + ".secret", node, "needs a secret of at least 16 characters");
        }
        cfg.evidence_hooks.push_back(std::move(hook));
      }
    }
  });

  root.map("observation_window", [&](MapReader& r) {
    for (auto [key, field] :
         {std::pair{"start", &cfg.observation_start}, std::pair{"end", &cfg.observation_end}}) {
      if (r.str(key, *field) && !valid_date(*field)) {
        origin.fail(r.child(key), r.take(key), "'" + *field + "' is not a date YYYY-MM-DD");
      }
    }
    if (cfg.observation_start.empty() != cfg.observation_end.empty() ||
        cfg.observation_end < cfg.observation_start) {
      origin.fail("observation_window.end", r.take("end"),
                  "needs both start and end, end not before start");
    }
  });

  root.map("requests", [&](MapReader& r) {
    if (r.integer("sla_business_days", n, 1, 365)) {
      cfg.request_sla_business_days = static_cast<int>(n);
    }
  });

  root.map("scope", [&](MapReader& r) {
    std::vector<std::string> cats;
    if (r.str_list("categories", cats)) {
      static const std::set<std::string> kCategories{
          "security", "availability", "processing_integrity", "confidentiality", "privacy"};
      cfg.scope_categories = {"security"};  // Security is always in scope
      for (const auto& c : cats) {
        auto l = lower(trim(c));
        if (kCategories.count(l) == 0) {
          origin.fail("scope.categories", r.take("categories"),
                      "unknown category '" + c +
                          "' (expected security, availability, processing_integrity, "
                          "confidentiality or privacy)");
        }
        cfg.scope_categories.insert(l);
      }
    }
    auto list_of = [&](const char* key, auto&& fn) {
      auto node = r.take(key);
      if (!node.IsDefined() || node.IsNull()) {
        return;
      }
      if (!node.IsSequence()) {
        origin.fail(r.child(key), node, "expected a list, got " + describe(node));
      }
      std::size_t i = 0;
      for (const auto& item : node) {
        MapReader m(origin, item, r.child(key) + "[" + std::to_string(i++) + "]");
        fn(m, item);
        m.finish();
      }
    };
    list_of("systems", [&](MapReader& m, const YAML::Node& node) {
      ScopeSystemConfig sys;
      m.str("name", sys.name);
      m.str("description", sys.description);
      if (sys.name.empty()) {
        origin.fail(m.child("name"), node, "missing");
      }
      cfg.scope_systems.push_back(std::move(sys));
    });
    list_of("subservice_orgs", [&](MapReader& m, const YAML::Node& node) {
      SubserviceOrgConfig org;
      m.str("name", org.name);
      m.str("services", org.services);
      m.str("method", org.method);
      m.str_list("complementary_controls", org.complementary_controls);
      if (org.name.empty()) {
        origin.fail(m.child("name"), node, "missing");
      }
      org.method = lower(trim(org.method));
      if (org.method == "carve_out" || org.method == "carveout") {
        org.method = "carve-out";
      }
      if (org.method != "inclusive" && org.method != "carve-out") {
        origin.fail(m.child("method"), node, "expected inclusive or carve-out");
      }
      cfg.scope_subservice_orgs.push_back(std::move(org));
    });
  });

  read_people(root, cfg);
  read_policies(root, cfg);
  read_engine(origin, root, cfg);
}

}  // namespace

std::optional<Role> parse_role(std::string_view s) {
  auto l = lower(trim(s));
  for (auto r : {Role::admin, Role::liaison, Role::approver, Role::auditor}) {
    if (l == to_string(r)) {
      return r;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Config::secrets() const {
  std::vector<std::string> out;
  for (const auto* s : {&admin_token, &slack_bot_token, &slack_signing_secret, &slack_app_token,
                        &teams_app_password}) {
    if (!s->empty()) {
      out.push_back(*s);
    }
  }
  for (const auto& h : evidence_hooks) {
    if (!h.secret.empty()) {
      out.push_back(h.secret);
    }
  }
  if (auto pw = redis_password(redis_url); !pw.empty()) {
    out.push_back(std::move(pw));
  }
  return out;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    // getenv is safe here: nothing in auditbot calls setenv after start-up.
    if (const char* v = std::getenv(name.c_str())) {  // NOLINT(concurrency-mt-unsafe)
      return std::string(v);
    }
    return std::nullopt;
  };
}

Config load_config(const std::string& path, const EnvLookup& env) {
  Origin origin(path);
  YAML::Node root;
  if (!path.empty()) {
    auto text = read_file(path);
    if (!text) {
      throw ConfigError(path + ": cannot read the configuration file");
    }
    try {
      root.reset(YAML::Load(*text));
    } catch (const YAML::ParserException& e) {
      throw ConfigError(path + ": line " + std::to_string(e.mark.line + 1) +
                        ": not valid YAML: " + e.msg);
    }
  }
  if (!root.IsDefined() || root.IsNull()) {
    root.reset(YAML::Node(YAML::NodeType::Map));
  }
  if (!root.IsMap()) {
    origin.fail_plain("the top level must be a map of keys, got " + describe(root));
  }
  apply_env(origin, root, env);

  Config cfg;
  cfg.source_path = path;
  MapReader reader(origin, root, "");
  read_config(reader, cfg);
  reader.finish();
  return cfg;
}

}  // namespace auditbot
