// The command grammar: a hand-written tokenizer (no std::regex: it runs on every request)
// and the Args cursor whose errors name what was expected and what was typed.
#include "bot/grammar.hpp"

#include <array>
#include <charconv>

#include "bot/errors.hpp"
#include "bot/text.hpp"

namespace auditbot {

namespace {

constexpr std::size_t kMaxLineBytes = 4000;
// Ten years: far enough for any audit plan, small enough that date arithmetic stays sane.
constexpr int kMaxRelativeDays = 3660;
constexpr std::size_t kMaxShownBytes = 40;

constexpr std::string_view kNbsp = "\xC2\xA0";            // Teams and Slack paste these
constexpr std::string_view kLeftQuote = "\xE2\x80\x9C";   // “
constexpr std::string_view kRightQuote = "\xE2\x80\x9D";  // ”

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

bool all_alpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_alpha(c)) return false;
  }
  return true;
}

// Byte length of the whitespace character at s[i], 0 when there is none.
std::size_t space_at(std::string_view s, std::size_t i) {
  switch (s[i]) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\v':
    case '\f':
      return 1;
    default:
      return s.substr(i, kNbsp.size()) == kNbsp ? kNbsp.size() : 0;
  }
}

// Byte length of the quote character (" “ ”) at s[i], 0 when there is none.
std::size_t quote_at(std::string_view s, std::size_t i) {
  if (s[i] == '"') return 1;
  std::string_view rest = s.substr(i, 3);
  return (rest == kLeftQuote || rest == kRightQuote) ? 3 : 0;
}

// Cuts at most `max` bytes without splitting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;
  return s.substr(0, n);
}

// What the person typed, shortened and on one line, for quoting back in an error.
std::string shown(std::string_view typed) {
  std::string out(utf8_prefix(typed, kMaxShownBytes));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (out.size() < typed.size()) out += "\xE2\x80\xA6";  // …
  return out;
}

std::string shown(const Token& t) {
  switch (t.kind) {
    case Token::Kind::quoted:
      return "\"" + shown(t.text) + "\"";
    case Token::Kind::mention:
      return shown("@" + t.text);
    default:
      return shown(t.text);
  }
}

std::string raw_text(const Token& t) {
  return t.kind == Token::Kind::mention ? "@" + t.text : t.text;
}

// "+3d", "+3bd", "+2w"; nullopt when `w` does not have that shape.
std::optional<Token> relative_date(std::string_view w) {
  if (w.size() < 3 || w[0] != '+') return std::nullopt;
  std::size_t digits_end = 1;
  while (digits_end < w.size() && is_digit(w[digits_end]))
    ++digits_end;
  std::string_view digits = w.substr(1, digits_end - 1);
  std::string_view unit = w.substr(digits_end);
  if (digits.empty()) return std::nullopt;
  int per_unit = 0;
  bool business = false;
  if (iequals(unit, "d")) {
    per_unit = 1;
  } else if (iequals(unit, "bd")) {
    per_unit = 1;
    business = true;
  } else if (iequals(unit, "w")) {
    per_unit = 7;
  } else {
    return std::nullopt;
  }
  long long n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  (void)ptr;
  if (ec != std::errc() || n * per_unit > kMaxRelativeDays) {
    throw SyntaxError("'" + shown(w) + "' is too far ahead (at most " +
                      std::to_string(kMaxRelativeDays) + " days)");
  }
  Token t;
  t.kind = Token::Kind::relative_date;
  t.text = lower(w);
  t.days = static_cast<int>(n * per_unit);
  t.business_days = business;
  return t;
}

// 2026-12-05 is a date; 2026-2-30 and 2026-02-30 are typos that must not pass as words.
bool looks_like_date(std::string_view w) {
  std::size_t first = w.find('-');
  if (first != 4 || !all_digits(w.substr(0, 4))) return false;
  std::size_t second = w.find('-', first + 1);
  if (second == std::string_view::npos) return false;
  std::string_view month = w.substr(first + 1, second - first - 1);
  std::string_view day = w.substr(second + 1);
  return month.size() >= 1 && month.size() <= 2 && all_digits(month) && day.size() >= 1 &&
         day.size() <= 2 && all_digits(day);
}

// CC6.1, A1.2, C1.1, PI1.5, P4.3 (the Trust Services Criteria families).
bool is_tsc_criterion(std::string_view w) {
  std::size_t letters = 0;
  while (letters < w.size() && is_alpha(w[letters]))
    ++letters;
  std::string prefix = upper(w.substr(0, letters));
  if (prefix != "CC" && prefix != "A" && prefix != "C" && prefix != "PI" && prefix != "P") {
    return false;
  }
  std::string_view numbers = w.substr(letters);
  std::size_t dot = numbers.find('.');
  if (dot == std::string_view::npos) return false;
  return all_digits(numbers.substr(0, dot)) && all_digits(numbers.substr(dot + 1));
}

Token classify(std::string_view w) {
  Token t;
  if (w.size() > 1 && w[0] == '@') {
    t.kind = Token::Kind::mention;
    t.text = lower(w.substr(1));
    return t;
  }
  if (all_digits(w)) {
    t.kind = Token::Kind::number;
    t.text = std::string(w);
    return t;
  }
  if (looks_like_date(w)) {
    if (w.size() != 10 || !parse_date(w)) {
      throw SyntaxError("'" + shown(w) + "' is not a date (use YYYY-MM-DD)");
    }
    t.kind = Token::Kind::date;
    t.text = std::string(w);
    return t;
  }
  if (auto rel = relative_date(w)) return *rel;
  if (is_tsc_criterion(w)) {
    t.kind = Token::Kind::control;
    t.text = upper(w);
    return t;
  }
  std::size_t dash = w.find('-');
  if (dash != std::string_view::npos && all_alpha(w.substr(0, dash)) &&
      all_digits(w.substr(dash + 1))) {
    std::string prefix = upper(w.substr(0, dash));
    if (prefix == "ASK" || prefix == "REQ" || prefix == "GAP" || prefix == "F") {
      t.kind = Token::Kind::item_id;
      t.text = upper(w);
      return t;
    }
    if (prefix.size() >= 2) {
      t.kind = Token::Kind::control;
      t.text = upper(w);
      return t;
    }
  }
  t.kind = Token::Kind::word;
  t.text = std::string(w);
  return t;
}

}  // namespace

std::string_view to_string(Token::Kind k) {
  switch (k) {
    case Token::Kind::word:
      return "word";
    case Token::Kind::quoted:
      return "quoted";
    case Token::Kind::mention:
      return "mention";
    case Token::Kind::item_id:
      return "item_id";
    case Token::Kind::control:
      return "control";
    case Token::Kind::date:
      return "date";
    case Token::Kind::relative_date:
      return "relative_date";
    case Token::Kind::number:
      return "number";
  }
  return "unknown";
}

std::vector<Token> tokenize(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    throw SyntaxError("the command is " + std::to_string(line.size()) +
                      " characters long; the limit is " + std::to_string(kMaxLineBytes));
  }
  std::vector<Token> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    if (std::size_t n = space_at(line, i)) {
      i += n;
      continue;
    }
    if (std::size_t q = quote_at(line, i)) {
      // A straight quote closes only a straight one; clients that curl quotes do not always
      // pair them (”text”), so a typographic opening accepts any quote as its close.
      const bool straight = q == 1;
      const std::size_t start = i;
      i += q;
      Token t;
      t.kind = Token::Kind::quoted;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          if (line[i + 1] == '\\') {
            t.text += '\\';
            i += 2;
            continue;
          }
          if (std::size_t eq = quote_at(line, i + 1)) {
            t.text.append(line.substr(i + 1, eq));
            i += 1 + eq;
            continue;
          }
        }
        std::size_t cq = quote_at(line, i);
        if (cq != 0 && (!straight || cq == 1)) {
          i += cq;
          closed = true;
          break;
        }
        t.text += line[i];
        ++i;
      }
      if (!closed) {
        throw SyntaxError("missing closing quote after " +
                          shown(line.substr(start, line.size() - start)));
      }
      tokens.push_back(std::move(t));
      continue;
    }
    const std::size_t start = i;
    while (i < line.size() && space_at(line, i) == 0)
      ++i;
    tokens.push_back(classify(line.substr(start, i - start)));
  }
  return tokens;
}

std::optional<std::string_view> strip_command_prefix(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && space_at(line, i) != 0)
    i += space_at(line, i);
  std::string_view rest = line.substr(i);
  if (!rest.empty() && rest[0] == '/') rest.remove_prefix(1);
  if (rest.size() < 4 || !iequals(rest.substr(0, 4), "soc2")) return std::nullopt;
  rest.remove_prefix(4);
  if (rest.empty()) return rest;
  if (space_at(rest, 0) == 0) return std::nullopt;  // "soc2x" is some other word
  while (!rest.empty() && space_at(rest, 0) != 0)
    rest.remove_prefix(space_at(rest, 0));
  return rest;
}

namespace {

[[noreturn]] void expected(std::string_view what, std::string_view hint, const Token* got) {
  std::string msg = "expected ";
  msg += what;
  msg += hint;
  msg += got ? ", got '" + shown(*got) + "'" : std::string(", got nothing");
  throw SyntaxError(msg);
}

}  // namespace

const Token& Args::next(std::string_view what) {
  if (done()) expected(what, "", nullptr);
  return tokens_[pos_++];
}

std::string Args::mention(std::string_view what) {
  const Token* t = peek();
  if (!t || t->kind != Token::Kind::mention) expected(what, " as @person", t);
  ++pos_;
  return t->text;
}

std::string Args::item_id(std::string_view what) {
  const Token* t = peek();
  if (!t || t->kind != Token::Kind::item_id) expected(what, " like ASK-3", t);
  ++pos_;
  return t->text;
}

std::string Args::control(std::string_view what) {
  const Token* t = peek();
  if (!t || t->kind != Token::Kind::control) expected(what, " like CC6.1 or AC-01", t);
  ++pos_;
  return t->text;
}

std::string Args::text(std::string_view what) {
  const Token* t = peek();
  if (!t) expected(what, " in \"quotes\"", t);
  if (t->kind == Token::Kind::quoted && t->text.empty()) expected(what, " in \"quotes\"", t);
  ++pos_;
  return raw_text(*t);
}

std::string Args::word(std::string_view what) {
  const Token* t = peek();
  if (!t || t->kind != Token::Kind::word) expected(what, "", t);
  ++pos_;
  return lower(t->text);
}

Date Args::date(std::string_view what, Date today, const BusinessCalendar& cal) {
  const Token* t = peek();
  if (t && t->kind == Token::Kind::date) {
    if (auto d = parse_date(t->text)) {
      ++pos_;
      return *d;
    }
  }
  if (t && t->kind == Token::Kind::relative_date) {
    ++pos_;
    return t->business_days ? cal.add_business_days(today, t->days) : cal.add_days(today, t->days);
  }
  expected(what, " like 2026-12-05, +3d or +3bd", t);
}

bool Args::keyword(std::string_view kw) {
  const Token* t = peek();
  if (!t || t->kind != Token::Kind::word || !iequals(t->text, kw)) return false;
  ++pos_;
  return true;
}

std::string Args::rest() {
  std::string out;
  for (; pos_ < tokens_.size(); ++pos_) {
    if (!out.empty()) out += ' ';
    out += raw_text(tokens_[pos_]);
  }
  return out;
}

void Args::expect_end() {
  if (const Token* t = peek()) {
    throw SyntaxError("unexpected '" + shown(*t) + "' after the end of the command");
  }
}

}  // namespace auditbot
