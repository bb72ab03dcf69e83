// Small text helpers every layer shares: ASCII case mapping and whitespace trimming.
#pragma once

#include <string>
#include <string_view>

namespace auditbot {

// ASCII letters lower-cased; other bytes (UTF-8 included) unchanged.
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// ASCII letters upper-cased; other bytes unchanged.
inline std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// Without leading and trailing ASCII whitespace.
inline std::string trim(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n\v\f";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return std::string(s.substr(b, s.find_last_not_of(ws) - b + 1));
}

}  // namespace auditbot
