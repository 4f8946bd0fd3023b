// The reconcile's pure phases on their own: status conditions in both directions (up and
// down), the events a change records, and the TLS decisions (keep, renew, refuse).
#include "holomush/operator/reconcile_phases.hpp"

#include <gtest/gtest.h>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {
namespace {

constexpr int64_t kNow = 1795600800;  // 2026-11-26T08:00:00Z

HoloMush Game(const std::string& extra = "{}") {
  Json hm = Json::parse(R"({
    "apiVersion": "holomush.io/v1alpha1", "kind": "HoloMUSH",
    "metadata": {"name": "game", "namespace": "ns", "uid": "uid-1", "generation": 3},
    "spec": {"image": "holomush:1", "database": {"existingSecret": {"name": "db"}}}})");
  hm["spec"].update(Json::parse(extra));
  auto parsed = ParseHoloMush(hm);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.value();
}

Json Deployment(int ready, Json conditions = Json::array()) {
  return {{"metadata", {{"generation", 2}}},
          {"status",
           {{"observedGeneration", 2},
            {"replicas", 1},
            {"updatedReplicas", 1},
            {"readyReplicas", ready},
            {"conditions", conditions}}}};
}

struct Cluster {
  Observed observed;
  TlsState tls;
  std::string apply_error;
  bool monitoring_available = true;
  bool monitoring_applied = true;
};

Cluster Healthy() {
  Cluster c;
  c.observed.core_deployment = Deployment(1);
  c.observed.gateway_deployment = Deployment(1);
  c.tls.hash = "abc";
  return c;
}

Json Status(const HoloMush& hm, const Cluster& c, int64_t now = kNow) {
  return BuildStatus({.hm = &hm,
                      .observed = c.observed,
                      .tls = &c.tls,
                      .apply_error = c.apply_error,
                      .monitoring_available = c.monitoring_available,
                      .monitoring_applied = c.monitoring_applied,
                      .now = now});
}

Condition Cond(const Json& status, const std::string& type) {
  auto c = FindCondition(status, type);
  EXPECT_TRUE(c.has_value()) << type << " missing in " << status.dump();
  return c.value_or(Condition{});
}

TEST(StatusPhaseTest, ReadyGoesDownWhenAReplicaStopsBeingReadyAndSaysSoOnce) {
  HoloMush hm = Game();
  Cluster c = Healthy();
  hm.status = Status(hm, c);
  ASSERT_EQ(Cond(hm.status, "Ready").status, "True");
  ASSERT_EQ(hm.status["phase"], "Ready");

  c.observed.gateway_deployment = Deployment(0);
  const Json later = Status(hm, c, kNow + 60);
  const Condition ready = Cond(later, "Ready");
  EXPECT_EQ(ready.status, "False");
  EXPECT_EQ(ready.reason, "ReplicasNotReady");
  EXPECT_EQ(ready.message, "core 1/1 ready, gateway 0/1 ready");
  EXPECT_EQ(ready.last_transition_time, FormatTime(kNow + 60));
  EXPECT_EQ(Cond(later, "Progressing").status, "True");
  EXPECT_EQ(later["phase"], "Progressing");
  // Unchanged conditions keep their time.
  EXPECT_EQ(Cond(later, "Degraded").last_transition_time, FormatTime(kNow));

  const std::vector<Json> events = ConditionEvents(hm, hm.status, later, "op-1", kNow + 60);
  ASSERT_EQ(events.size(), 2u);  // Ready and Progressing changed; nothing else did
  const Json& down = events[0]["reason"] == "ReplicasNotReady" ? events[0] : events[1];
  EXPECT_EQ(down["type"], "Warning");
  EXPECT_EQ(down["regarding"]["uid"], "uid-1");
  EXPECT_EQ(down["reportingInstance"], "op-1");
  EXPECT_TRUE(ConditionEvents(hm, later, later, "op-1", kNow + 120).empty());
}

TEST(StatusPhaseTest, DegradedNamesTheFirstCauseAndClearsWhenItGoes) {
  HoloMush hm = Game();
  Cluster c = Healthy();
  c.apply_error = "Deployment game-core: admission webhook denied";
  c.tls.error = "TLS Secret mine: not found";
  Json status = Status(hm, c);
  EXPECT_EQ(Cond(status, "Degraded").reason, "ApplyFailed");
  EXPECT_EQ(Cond(status, "Degraded").message, c.apply_error);
  EXPECT_EQ(status["phase"], "Degraded");

  c.apply_error.clear();
  status = Status(hm, c);
  EXPECT_EQ(Cond(status, "Degraded").reason, "TLSSecretUnavailable");
  EXPECT_EQ(Cond(status, "Degraded").message, "TLS Secret mine: not found");

  c.tls.error.clear();
  c.observed.core_deployment =
      Deployment(0, Json::array({{{"type", "ReplicaFailure"}, {"status", "True"}}}));
  status = Status(hm, c);
  EXPECT_EQ(Cond(status, "Degraded").reason, "RolloutStuck");
  EXPECT_NE(Cond(status, "Degraded").message.find("core Deployment"), std::string::npos);

  hm.status = status;
  c.observed.core_deployment = Deployment(1);
  const Json healed = Status(hm, c, kNow + 30);
  EXPECT_EQ(Cond(healed, "Degraded").status, "False");
  EXPECT_EQ(Cond(healed, "Degraded").reason, "Reconciled");
  EXPECT_EQ(healed["phase"], "Ready");
  const auto events = ConditionEvents(hm, status, healed, "op", kNow + 30);
  bool degraded_cleared = false;
  for (const Json& e : events) {
    if (e["reason"] == "Reconciled") degraded_cleared = e["type"] == "Normal";
  }
  EXPECT_TRUE(degraded_cleared);
}

TEST(StatusPhaseTest, MonitoringConditionSaysWhyItIsOff) {
  Cluster c = Healthy();
  HoloMush off = Game(R"({"monitoring": {"serviceMonitors": false, "prometheusRule": false}})");
  EXPECT_EQ(Cond(Status(off, c), "MonitoringAvailable").reason, "MonitoringDisabled");

  HoloMush on = Game();
  c.monitoring_available = false;
  EXPECT_EQ(Cond(Status(on, c), "MonitoringAvailable").reason, "MonitoringCRDsMissing");
  c.monitoring_available = true;
  c.monitoring_applied = false;
  c.apply_error = "PrometheusRule game: forbidden";
  const Condition failed = Cond(Status(on, c), "MonitoringAvailable");
  EXPECT_EQ(failed.reason, "ApplyFailed");
  EXPECT_NE(failed.message.find("forbidden"), std::string::npos);
  c.monitoring_applied = true;
  c.apply_error.clear();
  EXPECT_EQ(Cond(Status(on, c), "MonitoringAvailable").status, "True");
}

TEST(StatusPhaseTest, EndpointsFollowTheLoadBalancerAddress) {
  HoloMush hm = Game();
  Cluster c = Healthy();
  c.observed.gateway_service = Json{{"status", Json::object()}};
  EXPECT_EQ(Status(hm, c)["endpoints"]["telnet"], "game-gateway.ns.svc:4201");
  c.observed.gateway_service =
      Json{{"status", {{"loadBalancer", {{"ingress", Json::array({{{"ip", "203.0.113.7"}}})}}}}}};
  const Json status = Status(hm, c);
  EXPECT_EQ(status["endpoints"]["telnet"], "203.0.113.7:4201");
  EXPECT_EQ(status["endpoints"]["web"], "http://203.0.113.7:8080/ws");
}

Json SecretOf(const std::map<std::string, std::string>& files, const std::string& owner_uid) {
  Json data = Json::object();
  for (const auto& [name, content] : files) data[name] = resources::Base64Encode(content);
  return {{"metadata", {{"ownerReferences", Json::array({{{"uid", owner_uid}}})}}}, {"data", data}};
}

// Whether every leaf of `leaves` is signed by a CA in `bundle`: what a Pod holding `bundle`
// as its ca.crt accepts from a Pod holding `leaves`.
bool Trusts(const std::string& bundle, const std::map<std::string, std::string>& leaves) {
  for (const char* leaf : {"core.crt", "gateway.crt", "cli.crt"}) {
    bool signed_by_one = false;
    for (const std::string& ca : common::SplitPemCertificates(bundle)) {
      signed_by_one = signed_by_one || common::SignedBy(leaves.at(leaf), ca);
    }
    if (!signed_by_one) return false;
  }
  return true;
}

// Two consecutive plans: during the rollout between them, old and new Pods meet.
void ExpectMutualTrust(const TlsState& before, const TlsState& after) {
  EXPECT_TRUE(Trusts(before.files.at("ca.crt"), after.files)) << "old Pods refuse new ones";
  EXPECT_TRUE(Trusts(after.files.at("ca.crt"), before.files)) << "new Pods refuse old ones";
}

TEST(TlsPhaseTest, LeavesAreKeptUntilTheirLastThirdAndRenewedUnderTheSameCa) {
  const HoloMush hm = Game(R"({"tls": {"validityDays": 30}})");
  const TlsState first = PlanGeneratedTls(hm, std::nullopt, std::nullopt, kNow);
  ASSERT_TRUE(first.error.empty()) << first.error;
  ASSERT_TRUE(first.generated);
  ASSERT_TRUE(first.not_after && first.renew_at);
  EXPECT_EQ(*first.not_after - *first.renew_at, 10 * 86400);
  ASSERT_EQ(first.ca_files.count("ca.key"), 1u);

  const Json tls = SecretOf(first.files, hm.uid);
  const Json ca = SecretOf(first.ca_files, hm.uid);
  const TlsState kept = PlanGeneratedTls(hm, tls, ca, *first.renew_at - 1);
  EXPECT_FALSE(kept.generated);
  EXPECT_EQ(kept.hash, first.hash);
  EXPECT_EQ(kept.files, first.files);

  const TlsState renewed = PlanGeneratedTls(hm, tls, ca, *first.renew_at);
  EXPECT_TRUE(renewed.generated);
  EXPECT_NE(renewed.files.at("core.crt"), first.files.at("core.crt"));
  // The CA stays: Pods not yet rolled keep talking to those that have.
  EXPECT_EQ(renewed.files.at("ca.crt"), first.files.at("ca.crt"));
  EXPECT_EQ(renewed.ca_files, first.ca_files);
  ExpectMutualTrust(first, renewed);

  // A Secret of the same name that another object owns is never taken over.
  EXPECT_TRUE(PlanGeneratedTls(hm, SecretOf(first.files, "someone-else"), ca, kNow).generated);
  // Nor one with a file missing.
  auto partial = first.files;
  partial.erase("core.key");
  EXPECT_TRUE(PlanGeneratedTls(hm, SecretOf(partial, hm.uid), ca, kNow).generated);
}

TEST(TlsPhaseTest, TheCaRotatesInStepsThatEachKeepOldAndNewPodsTalking) {
  const HoloMush hm = Game(R"({"tls": {"validityDays": 30}})");
  const int64_t day = 86400;
  std::vector<TlsState> plans = {PlanGeneratedTls(hm, std::nullopt, std::nullopt, kNow)};
  const int64_t ca_expiry = *common::CertificateNotAfter(plans[0].ca_files.at("ca.crt"));
  // Each step plans on what the step before left in the Secrets.
  auto step = [&](int64_t now) {
    const TlsState last = plans.back();  // a copy: push_back may move the vector
    plans.push_back(
        PlanGeneratedTls(hm, SecretOf(last.files, hm.uid), SecretOf(last.ca_files, hm.uid), now));
    EXPECT_TRUE(plans.back().error.empty()) << plans.back().error;
    ExpectMutualTrust(plans[plans.size() - 2], plans.back());
  };
  // Two leaf lifetimes before the CA expires: a next CA joins the bundle, leaves unchanged
  // in their signer.
  step(ca_expiry - 60 * day + 1);
  const TlsState prepared = plans.back();
  ASSERT_EQ(prepared.ca_files.count("next.crt"), 1u);
  EXPECT_EQ(common::SplitPemCertificates(prepared.files.at("ca.crt")).size(), 2u);
  EXPECT_TRUE(common::SignedBy(prepared.files.at("core.crt"), plans[0].ca_files.at("ca.crt")));
  ASSERT_TRUE(prepared.renew_at);
  EXPECT_LE(*prepared.renew_at, ca_expiry - 30 * day);

  // One lifetime before: the next CA signs; the old one stays trusted.
  step(ca_expiry - 30 * day + 1);
  const TlsState promoted = plans.back();
  EXPECT_EQ(promoted.ca_files.at("ca.crt"), prepared.ca_files.at("next.crt"));
  EXPECT_EQ(promoted.ca_files.count("next.crt"), 0u);
  EXPECT_TRUE(common::SignedBy(promoted.files.at("core.crt"), promoted.ca_files.at("ca.crt")));
  EXPECT_EQ(common::SplitPemCertificates(promoted.files.at("ca.crt")).size(), 2u);

  // A reconcile with nothing due changes nothing.
  step(ca_expiry - 30 * day + 2);
  EXPECT_FALSE(plans.back().generated);
  EXPECT_EQ(plans.back().hash, promoted.hash);

  // Once the old CA has expired it leaves the bundle.
  step(ca_expiry + 1);
  EXPECT_EQ(common::SplitPemCertificates(plans.back().files.at("ca.crt")).size(), 1u);
}

TEST(TlsPhaseTest, LeavesFromBeforeTheCaWasKeptStayUntilDueAndTheNewCaIsTrustedFirst) {
  const HoloMush hm = Game(R"({"tls": {"validityDays": 30}})");
  // An earlier operator: leaves and ca.crt, no <name>-ca.
  const TlsState old = PlanGeneratedTls(hm, std::nullopt, std::nullopt, kNow);
  auto old_files = old.files;
  const TlsState upgraded =
      PlanGeneratedTls(hm, SecretOf(old_files, hm.uid), std::nullopt, kNow + 60);
  EXPECT_FALSE(upgraded.generated);
  EXPECT_EQ(upgraded.files.at("core.crt"), old_files.at("core.crt"));
  EXPECT_EQ(upgraded.ca_files.count("ca.key"), 0u);
  ASSERT_EQ(upgraded.ca_files.count("next.crt"), 1u);
  ExpectMutualTrust(old, upgraded);
  // When the leaves fall due, the next CA signs them, and the rollout stays mutual.
  const TlsState due = PlanGeneratedTls(hm, SecretOf(upgraded.files, hm.uid),
                                        SecretOf(upgraded.ca_files, hm.uid), *upgraded.renew_at);
  EXPECT_TRUE(due.generated);
  EXPECT_EQ(due.ca_files.at("ca.crt"), upgraded.ca_files.at("next.crt"));
  ExpectMutualTrust(upgraded, due);
}

TEST(TlsPhaseTest, AUserSecretThatCannotBeReadOrLacksAFileIsAnErrorNamingIt) {
  const TlsState unreadable = TlsFromUserSecret(
      "mine", common::MakeError(common::ErrorKind::kPermissionDenied, "forbidden"));
  EXPECT_EQ(unreadable.error, "TLS Secret mine: forbidden");
  EXPECT_TRUE(unreadable.hash.empty());

  const TlsState generated = PlanGeneratedTls(Game(), std::nullopt, std::nullopt, kNow);
  auto files = generated.files;
  files.erase("ca.crt");
  const TlsState lacking = TlsFromUserSecret("mine", SecretOf(files, ""));
  EXPECT_EQ(lacking.error, "TLS Secret mine has no ca.crt");

  const TlsState good = TlsFromUserSecret("mine", SecretOf(generated.files, ""));
  EXPECT_TRUE(good.error.empty());
  EXPECT_EQ(good.hash, generated.hash);
  EXPECT_TRUE(good.files.empty());  // the user's Secret is mounted as it is
}

}  // namespace
}  // namespace holomush::op
