#include "holomush/loadgen/dialect.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace holomush::loadgen {
namespace {

TEST(DialectTest, CommandsEndInTelnetLineEnds) {
  const auto d = Dialect::For("holomush");
  EXPECT_EQ(d.Say("hi"), "say hi\r\n");
  EXPECT_EQ(d.Pose("waves"), "pose waves\r\n");
  EXPECT_EQ(d.Page("Lgaaab", "psst"), "page Lgaaab=psst\r\n");
  EXPECT_EQ(d.Login(true, "lgaaab", "pw"), "create lgaaab pw\r\n");
  EXPECT_EQ(d.Login(false, "lgaaab", "pw"), "connect lgaaab pw\r\n");
  EXPECT_EQ(d.Move(3), "go out\r\ngo b3\r\n");
  EXPECT_EQ(d.Quit(), "QUIT\r\n");
}

TEST(DialectTest, EachServerDigsItsOwnWay) {
  EXPECT_EQ(Dialect::For("holomush").Dig(2), "dig b2 to \"Bench Room 2\" return out\r\n");
  EXPECT_EQ(Dialect::For("tinymux").Dig(2), "@dig Bench Room 2=b2,out\r\n");
  EXPECT_TRUE(Dialect::For("tinymux").IsDigReply("Bench Room 2 created as room #14."));
  EXPECT_TRUE(Dialect::For("holomush").IsDigReply("Dug \"Bench Room 2\" through b2."));
  EXPECT_TRUE(Dialect::For("holomush").IsDigReply("There is already an exit called that here."));
  EXPECT_FALSE(Dialect::For("holomush").IsDigReply("You can't do that."));
}

TEST(DialectTest, RecognisesEachServersLoginRefusals) {
  const auto mux = Dialect::For("tinymux");
  const auto ours = Dialect::For("holomush");
  EXPECT_TRUE(
      mux.IsLoginRefusal("Either that player does not exist, or has a different password."));
  EXPECT_TRUE(mux.IsLoginRefusal("The name Baaaaab is already taken."));
  EXPECT_TRUE(ours.IsLoginRefusal("That name is already taken."));
  EXPECT_TRUE(ours.IsLoginRefusal("Invalid username or password."));
  EXPECT_TRUE(ours.IsLoginRefusal("The server is busy, try again in a moment."));
  EXPECT_FALSE(ours.IsLoginRefusal("The Nexus"));
  EXPECT_FALSE(mux.IsLoginRefusal("Welcome to TinyMUX"));
}

TEST(DialectTest, HubRoomsDiffer) {
  EXPECT_EQ(Dialect::For("holomush").hub_room(), "The Nexus");
  EXPECT_EQ(Dialect::For("echo").hub_room(), "The Nexus");
  EXPECT_EQ(Dialect::For("tinymux").hub_room(), "Limbo");
}

TEST(DialectTest, UnknownTargetIsRefused) {
  EXPECT_THROW(Dialect::For("pennmush"), std::invalid_argument);
}

TEST(DialectTest, RoomTitlesMatchExactlyOrWithADbref) {
  EXPECT_TRUE(Dialect::IsRoomTitle("Bench Room 1", "Bench Room 1"));
  EXPECT_TRUE(Dialect::IsRoomTitle("Bench Room 1(#13R)", "Bench Room 1"));
  EXPECT_FALSE(Dialect::IsRoomTitle("Bench Room 10", "Bench Room 1"));
  EXPECT_FALSE(Dialect::IsRoomTitle("Bench Room", "Bench Room 1"));
  EXPECT_FALSE(Dialect::IsRoomTitle("Dug \"Bench Room 1\"", "Bench Room 1"));
}

TEST(DialectTest, PlayerNamesAreDistinctLettersInInitialCaps) {
  EXPECT_EQ(Dialect::PlayerName("lg", 0), "Lgaaaa");
  EXPECT_EQ(Dialect::PlayerName("LG", 27), "Lgaabb");
  std::set<std::string> names;
  for (size_t i = 0; i < 20000; ++i) {
    const auto name = Dialect::PlayerName("Qa", i);
    for (char c : name) ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 20000u);
}

}  // namespace
}  // namespace holomush::loadgen
