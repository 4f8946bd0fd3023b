#include "game/render.hpp"

#include <gtest/gtest.h>

namespace holomush::core {
namespace {

EventRecord E(const std::string& type, nlohmann::json payload) {
  EventRecord e;
  e.type = type;
  e.actor_id = "ana-id";
  e.actor_name = "Ana";
  e.payload = std::move(payload);
  return e;
}

TEST(RenderTest, SayReadsDifferentlyToTheSpeaker) {
  auto e = E("say", {{"message", "Hello"}});
  EXPECT_EQ(RenderEvent(e, "ana-id"), "You say, \"Hello\"");
  EXPECT_EQ(RenderEvent(e, "bob-id"), "Ana says, \"Hello\"");
}

TEST(RenderTest, OnceRendersEachViewpointOfAnEventAndNothingOfAnotherEvent) {
  auto first = E("say", {{"message", "Hello"}});
  first.id = "01JAAAAAAAAAAAAAAAAAAAAAAA";
  EXPECT_EQ(RenderEventOnce(first, "bob-id"), "Ana says, \"Hello\"");
  EXPECT_EQ(RenderEventOnce(first, "ana-id"), "You say, \"Hello\"");
  EXPECT_EQ(RenderEventOnce(first, "cid-id"), "Ana says, \"Hello\"");
  // Another id is another event, though this one differs only in its payload.
  auto second = E("say", {{"message", "Bye"}});
  second.id = "01JAAAAAAAAAAAAAAAAAAAAAAB";
  EXPECT_EQ(RenderEventOnce(second, "bob-id"), "Ana says, \"Bye\"");
  EXPECT_EQ(RenderEventOnce(second, "ana-id"), "You say, \"Bye\"");
  // Events without an id are never taken for one another.
  EXPECT_EQ(RenderEventOnce(E("say", {{"message", "one"}}), "bob-id"), "Ana says, \"one\"");
  EXPECT_EQ(RenderEventOnce(E("say", {{"message", "two"}}), "bob-id"), "Ana says, \"two\"");
}

TEST(RenderTest, PoseAndSemipose) {
  EXPECT_EQ(RenderEvent(E("pose", {{"action", "waves."}}), "bob-id"), "Ana waves.");
  EXPECT_EQ(RenderEvent(E("pose", {{"action", "'s hat"}, {"nospace", true}}), "ana-id"),
            "Ana's hat");
}

TEST(RenderTest, PayloadsOfAnotherShapeRenderWithoutThrowing) {
  EXPECT_EQ(RenderEvent(E("pose", {{"action", "waves."}, {"nospace", "yes"}}), "bob-id"),
            "Ana waves.");
  EXPECT_EQ(RenderEvent(E("pose", nlohmann::json::array({1, 2})), "bob-id"), "Ana ");
  EXPECT_EQ(RenderEvent(E("say", {{"message", 42}}), "bob-id"), "Ana says, \"\"");
}

TEST(RenderTest, EmitIsUnattributed) {
  EXPECT_EQ(RenderEvent(E("emit", {{"text", "Thunder."}}), "bob-id"), "Thunder.");
}

TEST(RenderTest, MoversDoNotSeeTheirOwnLeaveAndArrive) {
  EXPECT_EQ(RenderEvent(E("leave", {{"exit", "north"}}), "ana-id"), "");
  EXPECT_EQ(RenderEvent(E("leave", {{"exit", "north"}}), "bob-id"), "Ana leaves north.");
  EXPECT_EQ(RenderEvent(E("arrive", {}), "bob-id"), "Ana has arrived.");
}

TEST(RenderTest, PageAndWall) {
  EXPECT_EQ(RenderEvent(E("page", {{"message", "psst"}, {"to", "Bob"}}), "bob-id"),
            "Ana pages: psst");
  EXPECT_EQ(RenderEvent(E("system", {{"text", "Reboot soon"}}), "bob-id"),
            "Announcement from Ana: Reboot soon");
}

TEST(RenderTest, MissingPayloadFieldsNeverThrow) {
  EXPECT_EQ(RenderEvent(E("say", {{"message", 42}}), "bob-id"), "Ana says, \"\"");
  EXPECT_EQ(RenderEvent(E("mystery", {}), "bob-id"), "");
}

}  // namespace
}  // namespace holomush::core
