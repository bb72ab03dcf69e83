// The command grammar as a person types it: every token kind, quoting as chat clients
// produce it, dates resolved against the business calendar, and one-line errors.
#include "bot/grammar.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/errors.hpp"

namespace auditbot {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using Kind = Token::Kind;
using ::testing::HasSubstr;

std::string syntax_error_of(std::string_view line) {
  try {
    tokenize(line);
  } catch (const SyntaxError& e) {
    return e.what();
  }
  return "(no error)";
}

template <typename F>
std::string syntax_error_from(F&& f) {
  try {
    f();
  } catch (const SyntaxError& e) {
    return e.what();
  }
  return "(no error)";
}

Date ymd(int y, unsigned m, unsigned d) {
  return Date{year{y}, month{m}, day{d}};
}

TEST(Tokenize, ClassifiesEveryTokenKindOfAnAskCommand) {
  auto t = tokenize(R"(ask @Bob CC6.1 "Q3 access review" due 2026-12-05 ASK-3 +3bd 42 list)");
  ASSERT_EQ(t.size(), 10u);
  EXPECT_EQ(t[0].kind, Kind::word);
  EXPECT_EQ(t[0].text, "ask");
  EXPECT_EQ(t[1].kind, Kind::mention);
  EXPECT_EQ(t[1].text, "bob");
  EXPECT_EQ(t[2].kind, Kind::control);
  EXPECT_EQ(t[2].text, "CC6.1");
  EXPECT_EQ(t[3].kind, Kind::quoted);
  EXPECT_EQ(t[3].text, "Q3 access review");
  EXPECT_EQ(t[4].kind, Kind::word);
  EXPECT_EQ(t[5].kind, Kind::date);
  EXPECT_EQ(t[5].text, "2026-12-05");
  EXPECT_EQ(t[6].kind, Kind::item_id);
  EXPECT_EQ(t[6].text, "ASK-3");
  EXPECT_EQ(t[7].kind, Kind::relative_date);
  EXPECT_EQ(t[7].days, 3);
  EXPECT_TRUE(t[7].business_days);
  EXPECT_EQ(t[8].kind, Kind::number);
  EXPECT_EQ(t[8].text, "42");
  EXPECT_EQ(t[9].kind, Kind::word);
}

TEST(Tokenize, ItemIdsAreUpperCasedWhateverTheCase) {
  for (auto [typed, id] :
       {std::pair{"ask-3", "ASK-3"}, {"Req-12", "REQ-12"}, {"gap-1", "GAP-1"}, {"f-2", "F-2"}}) {
    auto t = tokenize(typed);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].kind, Kind::item_id) << typed;
    EXPECT_EQ(t[0].text, id);
  }
}

TEST(Tokenize, TrustServicesCriteriaAndControlIdsAreControls) {
  for (auto [typed, id] : {std::pair{"cc6.1", "CC6.1"},
                           {"A1.2", "A1.2"},
                           {"c1.1", "C1.1"},
                           {"pi1.5", "PI1.5"},
                           {"P4.3", "P4.3"},
                           {"ac-01", "AC-01"},
                           {"POL-7", "POL-7"}}) {
    auto t = tokenize(typed);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].kind, Kind::control) << typed;
    EXPECT_EQ(t[0].text, id);
  }
}

TEST(Tokenize, LookalikesStayWords) {
  for (const char* typed : {"X-1", "v1.2", "CC6.1,", "Q3", "1.5", "soc2", "@", "+3x", "-3d"}) {
    auto t = tokenize(typed);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].kind, Kind::word) << typed;
    EXPECT_EQ(t[0].text, typed);
  }
}

TEST(Tokenize, RelativeDatesInDaysBusinessDaysAndWeeks) {
  auto t = tokenize("+3d +10BD +2w +0d");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].days, 3);
  EXPECT_FALSE(t[0].business_days);
  EXPECT_EQ(t[1].days, 10);
  EXPECT_TRUE(t[1].business_days);
  EXPECT_EQ(t[2].days, 14);
  EXPECT_FALSE(t[2].business_days);
  EXPECT_EQ(t[3].days, 0);
  EXPECT_EQ(t[1].kind, Kind::relative_date);
}

TEST(Tokenize, AbsurdlyFarRelativeDateIsAnError) {
  EXPECT_THAT(syntax_error_of("due +99999999999999999999d"), HasSubstr("too far ahead"));
  EXPECT_THAT(syntax_error_of("due +1000w"), HasSubstr("'+1000w' is too far ahead"));
}

TEST(Tokenize, QuotesKeepSpacesAndUnescapeQuoteAndBackslash) {
  auto t = tokenize(R"(note "say \"hi\" to C:\\temp and C:\path" "")");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].kind, Kind::quoted);
  EXPECT_EQ(t[1].text, R"(say "hi" to C:\temp and C:\path)");
  EXPECT_EQ(t[2].kind, Kind::quoted);
  EXPECT_EQ(t[2].text, "");
}

TEST(Tokenize, TypographicQuotesFromSlackAndTeamsClients) {
  auto t = tokenize("ask @bob CC6.1 \xE2\x80\x9CQ3 access review\xE2\x80\x9D due +3d");
  ASSERT_EQ(t.size(), 6u);
  EXPECT_EQ(t[3].kind, Kind::quoted);
  EXPECT_EQ(t[3].text, "Q3 access review");

  // Some keyboards produce the same curly mark on both sides.
  auto same = tokenize(
      "\xE2\x80\x9D"
      "both right"
      "\xE2\x80\x9D");
  ASSERT_EQ(same.size(), 1u);
  EXPECT_EQ(same[0].text, "both right");

  // Curly quotes inside a straight-quoted text are just text.
  auto nested = tokenize("\"the \xE2\x80\x9Cgolden\xE2\x80\x9D image\"");
  ASSERT_EQ(nested.size(), 1u);
  EXPECT_EQ(nested[0].text, "the \xE2\x80\x9Cgolden\xE2\x80\x9D image");
}

TEST(Tokenize, NonBreakingSpacesSeparateTokens) {
  auto t = tokenize("list\xC2\xA0open\t\nGAP-1");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].text, "open");
  EXPECT_EQ(t[2].kind, Kind::item_id);
}

TEST(Tokenize, UnterminatedQuoteIsNamed) {
  const std::string msg = syntax_error_of(R"(ask @bob CC6.1 "Q3 access review due +3d)");
  EXPECT_THAT(msg, HasSubstr("missing closing quote"));
  EXPECT_THAT(msg, HasSubstr("\"Q3 access review"));
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_THAT(syntax_error_of("say \"ends with escape\\\""), HasSubstr("missing closing quote"));
}

TEST(Tokenize, ImpossibleCalendarDatesAreErrors) {
  EXPECT_EQ(syntax_error_of("due 2026-02-30"), "'2026-02-30' is not a date (use YYYY-MM-DD)");
  EXPECT_EQ(syntax_error_of("due 2026-13-40"), "'2026-13-40' is not a date (use YYYY-MM-DD)");
  EXPECT_EQ(syntax_error_of("due 2026-2-3"), "'2026-2-3' is not a date (use YYYY-MM-DD)");
  EXPECT_EQ(tokenize("2028-02-29")[0].kind, Kind::date);  // leap year
  EXPECT_EQ(syntax_error_of("due 2027-02-29"), "'2027-02-29' is not a date (use YYYY-MM-DD)");
}

TEST(Tokenize, LineLimitIs4000Characters) {
  std::string ok(4000, 'a');
  EXPECT_EQ(tokenize(ok).size(), 1u);
  const std::string msg = syntax_error_of(std::string(4001, 'a'));
  EXPECT_THAT(msg, HasSubstr("4001"));
  EXPECT_THAT(msg, HasSubstr("4000"));
}

TEST(Tokenize, EmptyAndBlankLinesHaveNoTokens) {
  EXPECT_TRUE(tokenize("").empty());
  EXPECT_TRUE(tokenize("  \t ").empty());
}

TEST(StripCommandPrefix, AcceptsSlashAndBareSpellingsInAnyCase) {
  EXPECT_EQ(strip_command_prefix("/soc2 ask @bob"), std::optional<std::string_view>("ask @bob"));
  EXPECT_EQ(strip_command_prefix("  SOC2   help"), std::optional<std::string_view>("help"));
  EXPECT_EQ(strip_command_prefix("/Soc2"), std::optional<std::string_view>(""));
  EXPECT_EQ(strip_command_prefix("soc2x ask"), std::nullopt);
  EXPECT_EQ(strip_command_prefix("ask @bob"), std::nullopt);
  EXPECT_EQ(strip_command_prefix("/soc3 ask"), std::nullopt);
}

TEST(Args, ReadsAnAskCommandInOrder) {
  BusinessCalendar cal(WorkingHours{}, {});
  Args a(tokenize(R"(@Bob CC6.1 "Q3 access review" due 2026-12-05)"));
  EXPECT_EQ(a.mention("the owner"), "bob");
  EXPECT_EQ(a.control("the control"), "CC6.1");
  EXPECT_EQ(a.text("what is needed"), "Q3 access review");
  EXPECT_FALSE(a.keyword("by"));
  EXPECT_TRUE(a.keyword("DUE"));
  EXPECT_EQ(a.date("a due date", ymd(2026, 11, 1), cal), ymd(2026, 12, 5));
  EXPECT_TRUE(a.done());
  EXPECT_NO_THROW(a.expect_end());
}

TEST(Args, ErrorsNameWhatWasExpectedAndWhatWasTyped) {
  BusinessCalendar cal(WorkingHours{}, {});
  Args a(tokenize("bob tomorrow"));
  EXPECT_EQ(syntax_error_from([&] { a.mention("the owner"); }),
            "expected the owner as @person, got 'bob'");
  EXPECT_EQ(syntax_error_from([&] { a.item_id("the ask"); }),
            "expected the ask like ASK-3, got 'bob'");
  EXPECT_EQ(syntax_error_from([&] { a.control("the control"); }),
            "expected the control like CC6.1 or AC-01, got 'bob'");
  a.next("anything");
  EXPECT_EQ(syntax_error_from([&] { a.date("a due date", ymd(2026, 1, 5), cal); }),
            "expected a due date like 2026-12-05, +3d or +3bd, got 'tomorrow'");
  EXPECT_EQ(syntax_error_from([&] { a.expect_end(); }),
            "unexpected 'tomorrow' after the end of the command");
  a.next("anything");
  EXPECT_EQ(syntax_error_from([&] { a.mention("the owner"); }),
            "expected the owner as @person, got nothing");
  EXPECT_EQ(syntax_error_from([&] { a.next("a verb"); }), "expected a verb, got nothing");
}

TEST(Args, ErrorQuotesAreShortAndOnOneLine) {
  Args a(tokenize("\"first line\nsecond line that goes on and on and on for a while\""));
  const std::string msg = syntax_error_from([&] { a.mention("the owner"); });
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  EXPECT_THAT(msg, HasSubstr("'\"first line second line"));
  EXPECT_LT(msg.size(), 100u);
}

TEST(Args, FailedExpectationDoesNotConsume) {
  Args a(tokenize("@alice"));
  EXPECT_THROW(a.item_id("the ask"), SyntaxError);
  EXPECT_EQ(a.mention("the owner"), "alice");
}

TEST(Args, TextTakesQuotedOrOneBareTokenButNotEmptyQuotes) {
  Args a(tokenize(R"("two words" single "")"));
  EXPECT_EQ(a.text("a note"), "two words");
  EXPECT_EQ(a.text("a note"), "single");
  EXPECT_EQ(syntax_error_from([&] { a.text("a reason"); }),
            "expected a reason in \"quotes\", got '\"\"'");
}

TEST(Args, WordIsLowerCasedAndRefusesOtherKinds) {
  Args a(tokenize("Critical GAP-1"));
  EXPECT_EQ(a.word("a severity"), "critical");
  EXPECT_EQ(syntax_error_from([&] { a.word("a severity"); }), "expected a severity, got 'GAP-1'");
}

TEST(Args, RestJoinsRemainingTokensAsRawText) {
  Args a(tokenize(R"(GAP-1 "backups were" restored by @Carol on 2026-03-01)"));
  a.item_id("the gap");
  EXPECT_EQ(a.rest(), "backups were restored by @carol on 2026-03-01");
  EXPECT_TRUE(a.done());
}

TEST(Args, RelativeDatesUseCalendarDays) {
  BusinessCalendar cal(WorkingHours{}, {});
  Args a(tokenize("+3d +1w"));
  EXPECT_EQ(a.date("a due date", ymd(2026, 12, 4), cal), ymd(2026, 12, 7));
  EXPECT_EQ(a.date("a due date", ymd(2026, 12, 30), cal), ymd(2027, 1, 6));
}

TEST(Args, BusinessDaysFromAFridaySkipTheWeekendAndAHoliday) {
  // Friday 2026-12-04; Monday 2026-12-07 is a company holiday.
  BusinessCalendar cal(WorkingHours{}, {"2026-12-07"});
  Args a(tokenize("+3bd +1bd +0bd"));
  EXPECT_EQ(a.date("a due date", ymd(2026, 12, 4), cal), ymd(2026, 12, 10));
  EXPECT_EQ(a.date("a due date", ymd(2026, 12, 4), cal), ymd(2026, 12, 8));
  EXPECT_EQ(a.date("a due date", ymd(2026, 12, 4), cal), ymd(2026, 12, 4));
}

}  // namespace
}  // namespace auditbot
