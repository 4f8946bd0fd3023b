// The reconcile logic against an in-memory KubeClient: conditions the k8s tests cannot
// easily provoke (stuck rollouts, failed backups, pause) and the no-write guarantees.
#include "holomush/operator/controller.hpp"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/resources.hpp"
#include "support/wait.hpp"

namespace holomush::op {
namespace {

using common::ErrorKind;
using common::MakeError;

// An API server in memory: objects by kind/namespace/name, server-side apply as a merge
// that keeps what other writers set (status), and counters of every write.
class FakeKube final : public KubeClient {
 public:
  void Put(Json object) {
    std::lock_guard<std::mutex> lock(mu_);
    object["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_[Key(object)] = object;
  }
  std::optional<Json> Find(const std::string& kind, const std::string& ns,
                           const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(kind + "/" + ns + "/" + name);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // Held while reading the fields below that a worker thread writes.
  std::mutex& mu() { return mu_; }
  int applies = 0;
  int status_applies = 0;
  int events = 0;
  int deletes = 0;
  int pod_lists = 0;
  bool monitoring = true;
  // The next applies answer 409; when the last did, and when that object was next applied.
  int conflicts_left = 0;
  std::string conflict_key;
  std::optional<std::chrono::steady_clock::time_point> conflict_at;
  std::optional<std::chrono::steady_clock::time_point> applied_after_conflict;

  common::Result<Json> Get(const ResourceType& type, const std::string& ns,
                           const std::string& name) override {
    auto found = Find(type.kind, ns, name);
    if (!found) return MakeError(ErrorKind::kNotFound, "not found");
    return *found;
  }
  common::Result<ListResult> List(const ResourceType& type, const std::string& ns,
                                  const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (type.kind == "Pod") ++pod_lists;
    ListResult out;
    for (const auto& [key, object] : objects_) {
      if (object["kind"] == type.kind &&
          (ns.empty() || object["metadata"].value("namespace", "") == ns)) {
        out.items.push_back(object);
      }
    }
    out.resource_version = std::to_string(rv_);
    return out;
  }
  common::Result<WatchEnd> Watch(const ResourceType&, const std::string&, const std::string&,
                                 const std::string& rv,
                                 const std::function<void(const WatchEvent&)>&,
                                 const std::function<bool()>& stop) override {
    // Nothing changes behind the controller's back in these tests: idle until stopped.
    testing::WaitUntil(stop, std::chrono::hours(1));
    return WatchEnd{false, rv};
  }
  common::Result<Json> Apply(const ResourceType& type, const Json& object, bool status) override {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = Key(object);
    if (!status && conflicts_left > 0) {
      --conflicts_left;
      conflict_at = std::chrono::steady_clock::now();
      conflict_key = key;
      return MakeError(ErrorKind::kConflict, "the object has been modified");
    }
    if (!status && key == conflict_key && !applied_after_conflict) {
      applied_after_conflict = std::chrono::steady_clock::now();
    }
    Json stored = objects_.count(key) ? objects_[key] : Json::object();
    if (status) {
      if (stored.empty()) return MakeError(ErrorKind::kNotFound, "not found");
      stored["status"] = object["status"];
      ++status_applies;
    } else {
      Json keep_status = stored.value("status", Json());
      const Json meta = stored.value("metadata", Json::object());
      stored = object;
      stored["kind"] = type.kind;
      if (!keep_status.is_null()) stored["status"] = keep_status;
      stored["metadata"]["generation"] = meta.value("generation", 0) + 1;
      ++applies;
    }
    stored["metadata"]["resourceVersion"] = std::to_string(++rv_);
    objects_[key] = stored;
    return stored;
  }
  common::Result<Json> Create(const ResourceType&, const std::string&,
                              const Json& object) override {
    ++events;
    return object;
  }
  common::Result<Json> Update(const ResourceType&, const Json& object) override { return object; }
  common::Status Delete(const ResourceType& type, const std::string& ns,
                        const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    objects_.erase(type.kind + "/" + ns + "/" + name);
    ++deletes;
    return common::Ok{};
  }
  common::Result<bool> Serves(const std::string&, const std::string&) override {
    return monitoring;
  }

 private:
  static std::string Key(const Json& o) {
    return o["kind"].get<std::string>() + "/" + o["metadata"].value("namespace", "") + "/" +
           o["metadata"].value("name", "");
  }
  std::mutex mu_;
  std::map<std::string, Json> objects_;
  uint64_t rv_ = 0;
};

Json Game(const std::string& extra = "{}") {
  Json hm = Json::parse(R"({
    "apiVersion": "holomush.io/v1alpha1", "kind": "HoloMUSH",
    "metadata": {"name": "game", "namespace": "ns", "uid": "uid-1", "generation": 1},
    "spec": {"image": "holomush:1", "database": {"existingSecret": {"name": "db"}}}})");
  hm["spec"].update(Json::parse(extra));
  return hm;
}

Json ReadyDeployment(const std::string& name, int generation = 1) {
  return Json{{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata",
               {{"name", name},
                {"namespace", "ns"},
                {"generation", generation},
                {"labels", {{"app.kubernetes.io/instance", "game"}}}}},
              {"status",
               {{"observedGeneration", generation + 1},
                {"replicas", 1},
                {"updatedReplicas", 1},
                {"readyReplicas", 1}}}};
}

class ControllerTest : public ::testing::Test {
 protected:
  void Start(bool monitoring = true) {
    kube_.monitoring = monitoring;
    ControllerOptions options;
    options.alert_rules = Json{{"groups", Json::array()}};
    options.now = [] { return int64_t{1795600800}; };
    controller_ = std::make_unique<Controller>(kube_, metrics_, options, common::Logger("test"));
    controller_->StartCaches();
    ASSERT_TRUE(testing::WaitUntil([&] { return controller_->CachesSynced(); }));
  }
  void TearDown() override {
    if (controller_) controller_->Stop();
  }
  Json Status() { return kube_.Find("HoloMUSH", "ns", "game")->value("status", Json::object()); }
  std::string Cond(const std::string& type, const std::string& field) {
    auto c = FindCondition(Status(), type);
    if (!c) return "";
    if (field == "status") return c->status;
    if (field == "message") return c->message;
    return c->reason;
  }

  FakeKube kube_;
  OperatorMetrics metrics_{std::make_shared<prometheus::Registry>()};
  std::unique_ptr<Controller> controller_;
};

TEST_F(ControllerTest, SecondReconcileWritesNothing) {
  kube_.Put(Game());
  Start();
  auto first = controller_->Reconcile("ns/game");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GT(first->applied, 10);
  const int applies = kube_.applies;
  const int statuses = kube_.status_applies;
  auto second = controller_->Reconcile("ns/game");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(kube_.applies, applies);
  EXPECT_EQ(kube_.status_applies, statuses);
  EXPECT_EQ(Status()["phase"], "Progressing");
  EXPECT_EQ(Cond("Ready", "status"), "False");
}

// With the clock moved, not waited for: the certificates are renewed in their last third,
// the new notAfter is in the status, both Deployments roll (their TLS hash changes), and the
// controller asks to be woken for the next renewal.
TEST(ControllerClockTest, CertificatesAreRenewedInTheirLastThirdAndBothDeploymentsRoll) {
  FakeKube kube;
  OperatorMetrics metrics{std::make_shared<prometheus::Registry>()};
  kube.Put(Game(R"({"tls": {"validityDays": 30}})"));
  int64_t now = 1795600800;
  ControllerOptions options;
  options.alert_rules = Json{{"groups", Json::array()}};
  options.now = [&now] { return now; };
  Controller controller(kube, metrics, options, common::Logger("test"));
  controller.StartCaches();
  ASSERT_TRUE(testing::WaitUntil([&] { return controller.CachesSynced(); }));
  struct Seen {
    std::string not_after, core_hash, gateway_hash;
    std::optional<std::chrono::milliseconds> requeue;
  };
  auto reconcile = [&] {
    auto outcome = controller.Reconcile("ns/game");
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    auto hash = [&](const std::string& name) {
      return (*kube.Find(
          "Deployment", "ns",
          name))["spec"]["template"]["metadata"]["annotations"][resources::kTlsHashAnnotation]
          .get<std::string>();
    };
    return Seen{.not_after = (*kube.Find("HoloMUSH", "ns", "game"))["status"]["tls"]["notAfter"],
                .core_hash = hash("game-core"),
                .gateway_hash = hash("game-gateway"),
                .requeue = outcome.ok() ? outcome->requeue_after : std::nullopt};
  };
  const Seen first = reconcile();
  // 20 days to the renewal: woken a day from now (a long sleep never drifts far).
  EXPECT_EQ(first.requeue, std::chrono::milliseconds(86400 * 1000));
  // Shortly before it, nothing changes, and the wake-up is the renewal itself.
  now += 20 * 86400 - 100;
  const Seen before = reconcile();
  EXPECT_EQ(before.not_after, first.not_after);
  EXPECT_EQ(before.core_hash, first.core_hash);
  EXPECT_EQ(before.requeue, std::chrono::milliseconds(100 * 1000));
  // At it: new leaves, later expiry, both Deployments roll.
  now += 100;
  const Seen renewed = reconcile();
  EXPECT_GT(renewed.not_after, first.not_after);
  EXPECT_NE(renewed.core_hash, first.core_hash);
  EXPECT_NE(renewed.gateway_hash, first.gateway_hash);
  EXPECT_EQ(renewed.core_hash, renewed.gateway_hash);
  EXPECT_EQ(renewed.requeue, std::chrono::milliseconds(86400 * 1000));
  controller.Stop();
}

// The user's own TLS Secret is not watched (not ours to label): it is read again every five
// minutes, and what changed there rolls the Pods.
TEST_F(ControllerTest, AUserTlsSecretIsReadAgainEveryFiveMinutes) {
  kube_.Put(Game(R"({"tls": {"secretName": "mine"}})"));
  auto parsed = ParseHoloMush(Game());
  ASSERT_TRUE(parsed.ok());
  auto put_secret = [&](int64_t made_at) {
    Json data = Json::object();
    for (const auto& [name, content] :
         PlanGeneratedTls(*parsed, std::nullopt, std::nullopt, made_at).files) {
      data[name] = resources::Base64Encode(content);
    }
    kube_.Put(Json{{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", "mine"}, {"namespace", "ns"}}},
                   {"data", data}});
  };
  put_secret(1795600800);
  Start();
  auto hash = [&] {
    return (*kube_.Find(
        "Deployment", "ns",
        "game-core"))["spec"]["template"]["metadata"]["annotations"][resources::kTlsHashAnnotation]
        .get<std::string>();
  };
  auto first = controller_->Reconcile("ns/game");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->requeue_after, std::chrono::minutes(5));
  const std::string before = hash();
  put_secret(1795600800 + 3600);  // the user rotated the certificates
  auto second = controller_->Reconcile("ns/game");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->requeue_after, std::chrono::minutes(5));
  EXPECT_NE(hash(), before);
}

// A 409 (someone wrote between our read and our write) is read again in 500 ms: not the
// error backoff, not at once.
TEST_F(ControllerTest, AConflictIsReconciledAgainAfterHalfASecond) {
  kube_.Put(Game());
  kube_.conflicts_left = 1;
  Start();
  controller_->StartWorkers();
  ASSERT_TRUE(testing::WaitUntil([&] {
    std::lock_guard lock(kube_.mu());
    return kube_.applied_after_conflict.has_value();
  }));
  std::lock_guard lock(kube_.mu());
  ASSERT_TRUE(kube_.conflict_at && kube_.applied_after_conflict);
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      *kube_.applied_after_conflict - *kube_.conflict_at);
  EXPECT_GE(waited.count(), 500);
  EXPECT_LT(waited.count(), 5000);
}

TEST_F(ControllerTest, ReadyWhenBothDeploymentsAreRolledOut) {
  kube_.Put(Game());
  kube_.Put(ReadyDeployment("game-core"));
  kube_.Put(ReadyDeployment("game-gateway"));
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(Cond("Ready", "status"), "True");
  EXPECT_EQ(Cond("Progressing", "reason"), "RolloutComplete");
  EXPECT_EQ(Status()["phase"], "Ready");
  EXPECT_EQ(Status()["gateway"]["ready"], "1/1");
}

TEST_F(ControllerTest, StuckRolloutIsDegraded) {
  kube_.Put(Game());
  Json stuck = ReadyDeployment("game-core");
  stuck["status"]["readyReplicas"] = 0;
  stuck["status"]["conditions"] = Json::array(
      {{{"type", "Progressing"}, {"status", "False"}, {"reason", "ProgressDeadlineExceeded"}}});
  kube_.Put(stuck);
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(Cond("Degraded", "status"), "True");
  EXPECT_EQ(Cond("Degraded", "reason"), "RolloutStuck");
  EXPECT_EQ(Status()["phase"], "Degraded");
}

TEST_F(ControllerTest, AFailureAfterASuccessMakesBackupUnhealthy) {
  kube_.Put(Game());
  auto job = [](const std::string& name, const std::string& type, const std::string& when) {
    Json j = {{"apiVersion", "batch/v1"},
              {"kind", "Job"},
              {"metadata",
               {{"name", name},
                {"namespace", "ns"},
                {"labels", {{"app.kubernetes.io/instance", "game"}}}}},
              {"status",
               {{"conditions", Json::array({{{"type", type},
                                             {"status", "True"},
                                             {"reason", "BackoffLimitExceeded"},
                                             {"message", "pg_dump failed"},
                                             {"lastTransitionTime", when}}})}}}};
    if (type == "Complete") j["status"]["completionTime"] = when;
    return j;
  };
  kube_.Put(job("b-1", "Complete", "2026-11-24T03:00:00Z"));
  kube_.Put(job("b-2", "Failed", "2026-11-25T03:00:00Z"));
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(Cond("BackupHealthy", "status"), "False");
  EXPECT_EQ(Cond("BackupHealthy", "reason"), "BackupFailed");
  EXPECT_EQ(Status()["backup"]["lastResult"], "Failed");
  EXPECT_EQ(Status()["backup"]["lastJob"], "b-2");
  EXPECT_EQ(Status()["backup"]["lastSuccessTime"], "2026-11-24T03:00:00Z");
  EXPECT_EQ(Status()["backup"]["message"], "pg_dump failed");
}

TEST_F(ControllerTest, AFailedBackupSaysWhatItsPodSaidReadOnce) {
  kube_.Put(Game());
  kube_.Put({{"apiVersion", "batch/v1"},
             {"kind", "Job"},
             {"metadata",
              {{"name", "b-3"},
               {"namespace", "ns"},
               {"labels", {{"app.kubernetes.io/instance", "game"}}}}},
             {"status",
              {{"conditions", Json::array({{{"type", "Failed"},
                                            {"status", "True"},
                                            {"reason", "BackoffLimitExceeded"},
                                            {"message", "Job has reached the backoff limit"},
                                            {"lastTransitionTime", "2026-11-25T03:00:00Z"}}})}}}});
  kube_.Put(
      {{"apiVersion", "v1"},
       {"kind", "Pod"},
       {"metadata",
        {{"name", "b-3-abcde"},
         {"namespace", "ns"},
         {"labels", {{"batch.kubernetes.io/job-name", "b-3"}}}}},
       {"status",
        {{"containerStatuses",
          Json::array({{{"name", "backup"},
                        {"state",
                         {{"terminated",
                           {{"exitCode", 1},
                            {"message", R"({"msg":"backup failed","exit_code":1,"step":"snapshot",)"
                                        R"("error":"pg_dump (PostgreSQL) 15.10 cannot dump a )"
                                        R"(PostgreSQL 17 server"})"
                                        "\n"}}}}}}})}}}});
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(Cond("BackupHealthy", "message"),
            "backup Job b-3 failed: pg_dump (PostgreSQL) 15.10 cannot dump a PostgreSQL 17 server");
  EXPECT_EQ(kube_.pod_lists, 1) << kube_.Find("Pod", "ns", "b-3-abcde")->dump();
  // Held in the status now: later reconciles do not read the pod again.
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.pod_lists, 1);
  EXPECT_EQ(Status()["backup"]["message"],
            "pg_dump (PostgreSQL) 15.10 cannot dump a PostgreSQL 17 server");
}

TEST_F(ControllerTest, PausedWritesNoChildrenButReportsStatus) {
  kube_.Put(Game(R"({"paused": true})"));
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.applies, 0);
  EXPECT_EQ(kube_.deletes, 0);
  EXPECT_EQ(Status()["phase"], "Paused");
  EXPECT_EQ(Cond("Progressing", "reason"), "Paused");
}

TEST_F(ControllerTest, WithoutMonitoringCrdsTheConditionSaysWhy) {
  kube_.Put(Game());
  Start(/*monitoring=*/false);
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(Cond("MonitoringAvailable", "status"), "False");
  EXPECT_EQ(Cond("MonitoringAvailable", "reason"), "MonitoringCRDsMissing");
  EXPECT_FALSE(kube_.Find("ServiceMonitor", "ns", "game-core").has_value());
  EXPECT_TRUE(kube_.Find("Deployment", "ns", "game-core").has_value());
}

TEST_F(ControllerTest, OneEventPerConditionTransitionAndNoneWhenNothingChanges) {
  kube_.Put(Game());
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.events, 5);  // every condition is new
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.events, 5);
}

TEST_F(ControllerTest, ASpecItCannotReadIsACondition) {
  Json hm = Game();
  hm["spec"]["database"] = Json::object();  // neither database: the schema would refuse it
  kube_.Put(hm);
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.applies, 0);
  EXPECT_EQ(Status()["phase"], "Degraded");
  EXPECT_EQ(Cond("Degraded", "reason"), "InvalidSpec");
  const auto degraded = FindCondition(Status(), "Degraded");
  ASSERT_TRUE(degraded);
  EXPECT_NE(degraded->message.find("set exactly one of existingSecret or managed"),
            std::string::npos);
  const int statuses = kube_.status_applies;
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_EQ(kube_.status_applies, statuses);  // nothing new to say
}

TEST_F(ControllerTest, TurningBackupsOffPrunesTheCronJobButKeepsTheClaim) {
  kube_.Put(Game());
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  ASSERT_TRUE(kube_.Find("CronJob", "ns", "game-backup").has_value());
  // The informer would deliver the changed HoloMUSH; the fake has no watch, so restart.
  controller_->Stop();
  Json hm = *kube_.Find("HoloMUSH", "ns", "game");
  hm["spec"]["backup"] = {{"enabled", false}};
  kube_.Put(hm);
  // Children need their labels and owner for pruning: they have them from the apply.
  Start();
  ASSERT_TRUE(controller_->Reconcile("ns/game").ok());
  EXPECT_FALSE(kube_.Find("CronJob", "ns", "game-backup").has_value());
  EXPECT_TRUE(kube_.Find("PersistentVolumeClaim", "ns", "game-backup").has_value());
  EXPECT_EQ(Cond("BackupHealthy", "reason"), "BackupDisabled");
}

}  // namespace
}  // namespace holomush::op
