// The one command grammar: `/soc2 <verb> ...` with quoted strings, @mentions, item ids
// (ASK-3, CC6.1), dates (2026-12-05, +3d, +3bd). Errors are one clear line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/calendar.hpp"

namespace auditbot {

struct Token {
  enum class Kind {
    word,           // plain bare word: due, list, critical
    quoted,         // "text in quotes" (quotes removed, \" and \\ unescaped)
    mention,        // @alice (text holds "alice")
    item_id,        // ASK-3, REQ-12, GAP-1, F-2 (text upper-cased)
    control,        // CC6.1, A1.2, PI1.5 or a control id such as AC-01 (upper-cased)
    date,           // 2026-12-05 absolute
    relative_date,  // +3d or +3bd (days / business_days set)
    number,         // 42
  };
  Kind kind = Kind::word;
  std::string text;  // as typed, minus decoration (see above)
  int days = 0;      // relative_date only
  bool business_days = false;
};

std::string_view to_string(Token::Kind k);

// Splits a command line (without the "/soc2" prefix) into tokens. Throws SyntaxError
// for an unterminated quote, a malformed date (2026-13-40), or a line over 4000 chars.
std::vector<Token> tokenize(std::string_view line);

// Strips a leading "/soc2" or "soc2" (any case) and whitespace; returns nullopt if absent.
std::optional<std::string_view> strip_command_prefix(std::string_view line);

// Cursor over a tokenized command, with typed expectations that throw SyntaxError naming
// what was expected ("expected a due date like 2026-12-05, +3d or +3bd, got 'tomorrow'").
class Args {
 public:
  explicit Args(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  bool done() const { return pos_ >= tokens_.size(); }
  const Token* peek() const { return done() ? nullptr : &tokens_[pos_]; }
  const Token& next(std::string_view what);  // any token; throws if none

  std::string mention(std::string_view what);  // person handle without "@"
  std::string item_id(std::string_view what);  // ASK-3
  std::string control(std::string_view what);  // CC6.1 / AC-01
  std::string text(std::string_view what);     // quoted or a single bare word
  std::string word(std::string_view what);     // a bare word (lower-cased)
  // A date token resolved against `today` (absolute, +Nd calendar, +Nbd business days).
  Date date(std::string_view what, Date today, const BusinessCalendar& cal);
  // True and consumes if the next token is the bare word `kw` (case-insensitive).
  bool keyword(std::string_view kw);
  // Remaining tokens joined by single spaces (quoted ones re-quoted not needed: raw text).
  std::string rest();
  void expect_end();  // throws "unexpected 'x'" when tokens remain

 private:
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
};

}  // namespace auditbot
