// The process-wide logger: lines are built here (text or JSON), scrubbed of secrets, and
// handed to an spdlog sink that only prints the finished line.
#include "bot/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "bot/errors.hpp"

namespace auditbot::log {

namespace {

constexpr std::string_view kRedacted = "[redacted]";
constexpr std::size_t kMinSecretLength = 4;  // shorter values would blank out ordinary words

struct State {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> logger;
  bool json = false;
  std::vector<std::string> secrets;  // longest first, so a secret inside another is not split
};

State& state() {
  static State s;
  return s;
}

std::atomic<int> g_level{static_cast<int>(Level::info)};

std::shared_ptr<spdlog::logger> make_logger(const std::string& file) {
  spdlog::sink_ptr sink;
  if (file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    } catch (const spdlog::spdlog_ex&) {
      throw ConfigError("log.file: cannot open '" + file + "' for writing");
    }
  }
  auto logger = std::make_shared<spdlog::logger>("auditbot", std::move(sink));
  logger->set_pattern("%v");  // the line is complete before spdlog sees it
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);  // a crash must not eat the lines before it
  return logger;
}

void add_secret_locked(State& s, std::string secret) {
  if (secret.size() < kMinSecretLength ||
      std::find(s.secrets.begin(), s.secrets.end(), secret) != s.secrets.end()) {
    return;
  }
  s.secrets.push_back(std::move(secret));
  std::stable_sort(s.secrets.begin(), s.secrets.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

void redact(std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    std::size_t pos = 0;
    while ((pos = text.find(secret, pos)) != std::string::npos) {
      text.replace(pos, secret.size(), kRedacted);
      pos += kRedacted.size();
    }
  }
}

std::string redacted(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  redact(out, secrets);
  return out;
}

std::string timestamp() {
  // Log lines are I/O, the one place the system clock is read directly.
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::floor<std::chrono::milliseconds>(now);
  auto day = std::chrono::floor<std::chrono::days>(ms);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{ms - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::string_view level_name(Level l, bool upper) {
  switch (l) {
    case Level::trace:
      return upper ? "TRACE" : "trace";
    case Level::debug:
      return upper ? "DEBUG" : "debug";
    case Level::info:
      return upper ? "INFO" : "info";
    case Level::warn:
      return upper ? "WARN" : "warn";
    case Level::error:
      return upper ? "ERROR" : "error";
    case Level::off:
      break;
  }
  return upper ? "OFF" : "off";
}

// Control characters are escaped so one event always stays one line.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

bool needs_quotes(std::string_view v) {
  return v.empty() || std::any_of(v.begin(), v.end(), [](char c) {
           return c == ' ' || c == '"' || c == '=' || c == '\\' ||
                  static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
         });
}

std::string text_key(std::string_view k) {
  std::string out;
  for (char c : k) {
    bool plain = static_cast<unsigned char>(c) > 0x20 && c != '=' && c != '"' && c != 0x7f;
    out += plain ? c : '_';
  }
  return out.empty() ? std::string("_") : out;
}

std::string text_line(Level level, std::string_view event, Fields fields,
                      const std::vector<std::string>& secrets) {
  std::string line = timestamp();
  line += ' ';
  line += level_name(level, true);
  line += ' ';
  append_escaped(line, redacted(event, secrets));
  for (const auto& [k, v] : fields) {
    line += ' ';
    line += text_key(redacted(k, secrets));
    line += '=';
    auto value = redacted(v, secrets);
    if (needs_quotes(value)) {
      line += '"';
      append_escaped(line, value);
      line += '"';
    } else {
      line += value;
    }
  }
  return line;
}

std::string json_line(Level level, std::string_view event, Fields fields,
                      const std::vector<std::string>& secrets) {
  nlohmann::ordered_json j;
  j["ts"] = timestamp();
  j["level"] = level_name(level, false);
  j["event"] = redacted(event, secrets);
  for (const auto& [k, v] : fields) {
    auto key = redacted(k, secrets);
    if (key == "ts" || key == "level" || key == "event") {
      key.insert(0, "_");  // the envelope keys are never overwritten by a field
    }
    j[key] = redacted(v, secrets);
  }
  // Invalid UTF-8 from outside input is replaced rather than throwing mid-log.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::optional<Level> parse_level(std::string_view s) {
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::pair<std::string_view, Level> kNames[] = {
      {"trace", Level::trace}, {"debug", Level::debug},  {"info", Level::info},
      {"warn", Level::warn},   {"warning", Level::warn}, {"error", Level::error},
      {"off", Level::off}};
  for (const auto& [name, level] : kNames) {
    if (l == name) {
      return level;
    }
  }
  return std::nullopt;
}

void init(const Options& options, std::vector<std::string> secrets) {
  auto logger = make_logger(options.file);
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (s.logger) {
    s.logger->flush();
  }
  s.logger = std::move(logger);
  s.json = options.json;
  // Secrets accumulate across re-inits: forgetting one is never the safe choice.
  for (auto& secret : secrets) {
    add_secret_locked(s, std::move(secret));
  }
  g_level.store(static_cast<int>(options.level));
}

void add_secret(std::string secret) {
  auto& s = state();
  std::lock_guard lock(s.mu);
  add_secret_locked(s, std::move(secret));
}

bool enabled(Level level) {
  return level != Level::off && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view event, Fields fields) {
  if (!enabled(level)) {
    return;
  }
  auto& s = state();
  std::lock_guard lock(s.mu);
  if (!s.logger) {
    s.logger = make_logger("");
  }
  auto line = s.json ? json_line(level, event, fields, s.secrets)
                     : text_line(level, event, fields, s.secrets);
  // A second pass catches a secret assembled across an escape or a field boundary.
  redact(line, s.secrets);
  s.logger->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
}

}  // namespace auditbot::log
