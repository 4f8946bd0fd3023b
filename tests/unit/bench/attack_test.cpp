#include "holomush/loadgen/attack.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace holomush::loadgen {
namespace {

TEST(ParseAttackTest, KnowsEveryKindAndNone) {
  EXPECT_EQ(ParseAttack(""), AttackKind::kNone);
  EXPECT_EQ(ParseAttack("none"), AttackKind::kNone);
  EXPECT_EQ(ParseAttack("prelogin"), AttackKind::kPreLogin);
  EXPECT_EQ(ParseAttack("wrongpass"), AttackKind::kWrongPass);
  EXPECT_EQ(ParseAttack("flood"), AttackKind::kFlood);
  EXPECT_EQ(ParseAttack("noread"), AttackKind::kNoRead);
}

TEST(ParseAttackTest, NamesRoundTrip) {
  for (const char* name : {"none", "prelogin", "wrongpass", "flood", "noread"}) {
    EXPECT_STREQ(AttackName(ParseAttack(name)), name);
  }
}

TEST(ParseAttackTest, RefusesUnknownKindNamingTheChoices) {
  try {
    ParseAttack("ddos");
    FAIL() << "accepted an unknown attack";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'ddos'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("wrongpass"), std::string::npos);
  }
}

TEST(DefaultAttackCountTest, MatchesTheIssue) {
  EXPECT_EQ(DefaultAttackCount(AttackKind::kPreLogin), 1000u);
  EXPECT_EQ(DefaultAttackCount(AttackKind::kFlood), 1u);
  EXPECT_EQ(DefaultAttackCount(AttackKind::kNoRead), 500u);
  EXPECT_EQ(DefaultAttackCount(AttackKind::kNone), 0u);
}

TEST(ClassifyAttackReplyTest, TellsTheGatewaysRefusalsApart) {
  EXPECT_EQ(ClassifyAttackReply("Welcome to HoloMUSH!"), AttackReply::kBanner);
  EXPECT_EQ(ClassifyAttackReply("Too many connections from your address. Close one and try again."),
            AttackReply::kAddressFull);
  EXPECT_EQ(
      ClassifyAttackReply("Sorry, the game is full right now. Please try again in a few minutes."),
      AttackReply::kServerFull);
  EXPECT_EQ(ClassifyAttackReply(
                "Too many login attempts from your address; wait a minute and try again."),
            AttackReply::kLoginThrottled);
  EXPECT_EQ(ClassifyAttackReply("Too many accounts created from your address; try again later."),
            AttackReply::kCreateThrottled);
}

TEST(ClassifyAttackReplyTest, TellsCoresAnswersApart) {
  EXPECT_EQ(ClassifyAttackReply("Invalid username or password."), AttackReply::kBadPassword);
  EXPECT_EQ(
      ClassifyAttackReply("Too many failed logins from your address; try again in 8 seconds."),
      AttackReply::kBackoff);
  EXPECT_EQ(ClassifyAttackReply("The server is busy, try again in a moment."), AttackReply::kBusy);
  EXPECT_EQ(ClassifyAttackReply("You are sending commands too fast; that one was not run."),
            AttackReply::kTooFast);
  EXPECT_EQ(ClassifyAttackReply("The game did not take that command; please try again."),
            AttackReply::kNotTaken);
  EXPECT_EQ(ClassifyAttackReply("You say, \"flood the quick brown fox\""), AttackReply::kSayEcho);
  EXPECT_EQ(ClassifyAttackReply("The Nexus"), AttackReply::kLoggedIn);
  EXPECT_EQ(ClassifyAttackReply("Bench Room 0"), AttackReply::kLoggedIn);
  EXPECT_EQ(ClassifyAttackReply("Goodbye."), AttackReply::kGoodbye);
}

TEST(ClassifyAttackReplyTest, AnotherPlayersSayIsNotTheAttackersEcho) {
  EXPECT_EQ(ClassifyAttackReply("Bcaaaab says, \"You say, hello\""), AttackReply::kOther);
  EXPECT_EQ(ClassifyAttackReply("Bcaaaab has arrived."), AttackReply::kOther);
}

TEST(ClassifyAttackReplyTest, EveryReplyHasADistinctName) {
  std::set<std::string> names;
  for (size_t i = 0; i < kAttackReplies; ++i) {
    names.insert(AttackReplyName(static_cast<AttackReply>(i)));
  }
  EXPECT_EQ(names.size(), kAttackReplies);
  EXPECT_EQ(names.count("?"), 0u);
}

TEST(BackoffSecondsTest, ReadsCoresWait) {
  EXPECT_EQ(BackoffSeconds("Too many failed logins from your address; try again in 16 seconds."),
            16);
  EXPECT_EQ(BackoffSeconds("... try again in 1 second."), 1);
  EXPECT_EQ(BackoffSeconds("The server is busy, try again in a moment."), std::nullopt);
  EXPECT_EQ(BackoffSeconds("try again in 5 minutes"), std::nullopt);
}

TEST(PacedScheduleTest, SpacesAttemptsEvenly) {
  const PacedSchedule pace(200, 1'000'000'000);
  EXPECT_EQ(pace.At(0), 1'000'000'000);
  EXPECT_EQ(pace.At(1), 1'005'000'000);
  EXPECT_EQ(pace.At(200), 2'000'000'000);
}

TEST(PacedScheduleTest, CountsWhatIsDueIncludingTheFirstAtTheStart) {
  const PacedSchedule pace(200, 1'000'000'000);
  EXPECT_EQ(pace.Due(999'999'999), 0u);
  EXPECT_EQ(pace.Due(1'000'000'000), 1u);
  EXPECT_EQ(pace.Due(1'004'999'999), 1u);
  EXPECT_EQ(pace.Due(1'005'000'000), 2u);
  // One second on: 200 intervals, 201 attempts counting the first.
  EXPECT_EQ(pace.Due(2'000'000'000), 201u);
}

TEST(PacedScheduleTest, EveryAttemptIsDueAtItsOwnTime) {
  for (double rate : {3.0, 7.0, 200.0, 999.0}) {
    const PacedSchedule pace(rate, 123'456'789);
    for (uint64_t k = 0; k < 5000; ++k) {
      ASSERT_EQ(pace.Due(pace.At(k)), k + 1) << "rate " << rate << " attempt " << k;
      ASSERT_EQ(pace.Due(pace.At(k + 1) - 1), k + 1) << "rate " << rate << " attempt " << k;
    }
  }
}

TEST(PacedScheduleTest, RateZeroSendsNothing) {
  const PacedSchedule pace(0, 0);
  EXPECT_EQ(pace.Due(1'000'000'000'000), 0u);
  EXPECT_EQ(pace.At(0), INT64_MAX);
}

TEST(PacedScheduleTest, RefusesNegativeRates) {
  EXPECT_THROW(PacedSchedule(-1, 0), std::invalid_argument);
}

}  // namespace
}  // namespace holomush::loadgen
