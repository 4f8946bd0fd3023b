#include "holomush/operator/api.hpp"

#include <gtest/gtest.h>

namespace holomush::op {
namespace {

Json Minimal() {
  return Json::parse(R"({
    "apiVersion": "holomush.io/v1alpha1", "kind": "HoloMUSH",
    "metadata": {"name": "game", "namespace": "ns", "uid": "u-1", "generation": 3},
    "spec": {"image": "holomush:1", "database": {"existingSecret": {"name": "db"}}}
  })");
}

TEST(ParseHoloMushTest, AppliesTheCrdDefaultsWhenFieldsAreAbsent) {
  auto hm = ParseHoloMush(Minimal());
  ASSERT_TRUE(hm.ok()) << hm.error().message;
  EXPECT_EQ(hm->name, "game");
  EXPECT_EQ(hm->ns, "ns");
  EXPECT_EQ(hm->generation, 3);
  EXPECT_EQ(*hm->spec.database.existing_secret, "db");
  EXPECT_EQ(hm->spec.database.existing_secret_key, "DATABASE_URL");
  EXPECT_EQ(hm->spec.core.replicas, 1);
  EXPECT_EQ(hm->spec.gateway_service.telnet_port, 4201);
  EXPECT_TRUE(hm->spec.backup.enabled);
  EXPECT_EQ(hm->spec.backup.schedule, "0 3 * * *");
  EXPECT_TRUE(hm->spec.monitoring.prometheus_rule);
  EXPECT_TRUE(hm->spec.network_policy.enabled);
  EXPECT_EQ(hm->spec.network_policy
                .metrics_from[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
            "monitoring");
}

TEST(ParseHoloMushTest, ReadsTheNetworkPolicySettings) {
  Json object = Minimal();
  object["spec"]["networkPolicy"] = {
      {"enabled", false}, {"metricsFrom", Json::array({{{"ipBlock", {{"cidr", "10.0.0.0/8"}}}}})}};
  auto hm = ParseHoloMush(object);
  ASSERT_TRUE(hm.ok()) << hm.error().message;
  EXPECT_FALSE(hm->spec.network_policy.enabled);
  EXPECT_EQ(hm->spec.network_policy.metrics_from,
            Json::array({{{"ipBlock", {{"cidr", "10.0.0.0/8"}}}}}));
}

TEST(ParseHoloMushTest, RejectsTwoDatabaseSources) {
  Json object = Minimal();
  object["spec"]["database"]["managed"] = Json::object();
  auto hm = ParseHoloMush(object);
  ASSERT_FALSE(hm.ok());
  EXPECT_NE(hm.error().message.find("exactly one"), std::string::npos);
}

TEST(ParseHoloMushTest, RejectsWrongTypesWithoutThrowing) {
  Json object = Minimal();
  object["spec"]["core"] = {{"replicas", "three"}};
  EXPECT_FALSE(ParseHoloMush(object).ok());
}

TEST(ConditionTest, KeepsTransitionTimeWhileStatusIsUnchanged) {
  Condition previous{"Ready", "True", "A", "m", 1, "2026-01-01T00:00:00Z"};
  Condition next{"Ready", "True", "B", "other", 2, ""};
  EXPECT_EQ(CarryTransitionTime(next, previous, "2026-02-02T00:00:00Z").last_transition_time,
            "2026-01-01T00:00:00Z");
  next.status = "False";
  EXPECT_EQ(CarryTransitionTime(next, previous, "2026-02-02T00:00:00Z").last_transition_time,
            "2026-02-02T00:00:00Z");
}

TEST(ConditionTest, FindsConditionsInStatus) {
  Json status = {
      {"conditions",
       Json::array({ConditionToJson({"Ready", "False", "R", "msg", 4, "2026-01-01T00:00:00Z"})})}};
  auto found = FindCondition(status, "Ready");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->reason, "R");
  EXPECT_EQ(found->observed_generation, 4);
  EXPECT_FALSE(FindCondition(status, "Degraded").has_value());
}

TEST(TimeTest, RoundTripsRfc3339) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(ParseTime("2026-11-25T10:00:00Z"), 1795600800);
  EXPECT_EQ(ParseTime("2026-11-25T10:00:00.123456Z"), 1795600800);
  EXPECT_EQ(ParseTime("2026-11-25T12:00:00+02:00"), 1795600800);
  EXPECT_EQ(ParseTime(FormatTime(1795600800)), 1795600800);
  EXPECT_FALSE(ParseTime("yesterday").has_value());
}

}  // namespace
}  // namespace holomush::op
