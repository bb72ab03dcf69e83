// Logging: levels, one line per event, text or JSON lines. Every registered secret is
// replaced by "[redacted]" before a line is written, wherever it appears.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace auditbot::log {

enum class Level { trace, debug, info, warn, error, off };
std::optional<Level> parse_level(std::string_view s);

struct Options {
  Level level = Level::info;
  bool json = false;
  std::string file;  // empty = stderr
};

// Configures the process-wide logger. `secrets` are scrubbed from every line.
void init(const Options& options, std::vector<std::string> secrets = {});
void add_secret(std::string secret);

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// `event` is a short dotted name ("http.request", "ask.created"); fields are key=value.
void write(Level level, std::string_view event, Fields fields = {});
inline void debug(std::string_view e, Fields f = {}) {
  write(Level::debug, e, f);
}
inline void info(std::string_view e, Fields f = {}) {
  write(Level::info, e, f);
}
inline void warn(std::string_view e, Fields f = {}) {
  write(Level::warn, e, f);
}
inline void error(std::string_view e, Fields f = {}) {
  write(Level::error, e, f);
}
bool enabled(Level level);

}  // namespace auditbot::log
