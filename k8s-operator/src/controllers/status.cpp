// The status phase: what the cluster shows of a HoloMUSH (conditions, phase, replicas,
// endpoints, backups) and the events that record a change of condition.
#include <algorithm>

#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/resources.hpp"
#include "support.hpp"

namespace holomush::op {

namespace r = resources;
using controller_support::Field;
using controller_support::HasCondition;
using controller_support::RandomHex;

namespace {

struct Rollout {
  bool exists = false;
  bool complete = false;  // current generation observed, all replicas updated and ready
  bool stuck = false;
  int desired = 0;
  int ready = 0;
  int updated = 0;
  Json status;
};

Rollout ReadRollout(const std::optional<Json>& deployment, int desired) {
  Rollout r;
  r.desired = desired;
  if (!deployment) return r;
  r.exists = true;
  const Json& d = *deployment;
  const Json& st = d.value("status", Json::object());
  r.ready = st.value("readyReplicas", 0);
  r.updated = st.value("updatedReplicas", 0);
  const int64_t generation = Field(d, "metadata").value("generation", int64_t{0});
  const bool observed = st.value("observedGeneration", int64_t{0}) >= generation;
  r.complete = observed && r.updated >= desired && r.ready >= desired &&
               st.value("replicas", 0) <= desired + 0;
  r.stuck = HasCondition(d, "Progressing", "False", "ProgressDeadlineExceeded") ||
            HasCondition(d, "ReplicaFailure", "True");
  // `replicas` is how many pods the Deployment has now (what `kubectl scale` and an
  // autoscaler read through the scale subresource), `ready` is ready of desired.
  r.status = {{"replicas", st.value("replicas", 0)},
              {"readyReplicas", r.ready},
              {"updatedReplicas", r.updated},
              {"ready", std::to_string(r.ready) + "/" + std::to_string(desired)}};
  return r;
}

}  // namespace

Json BuildStatus(const StatusInput& in) {
  const HoloMush& hm = *in.hm;
  const TlsState& tls = *in.tls;
  const std::string& apply_error = in.apply_error;
  const int64_t now = in.now;
  const Rollout core = ReadRollout(in.observed.core_deployment, hm.spec.core.replicas);
  const Rollout gateway = ReadRollout(in.observed.gateway_deployment, hm.spec.gateway.replicas);

  Json status = Json::object();
  status["observedGeneration"] = hm.generation;
  if (core.exists) status["core"] = core.status;
  if (gateway.exists) {
    status["gateway"] = gateway.status;
    status["gateway"]["selector"] = r::SelectorString(hm, "gateway");
  }

  // Endpoints players use.
  if (const auto& svc = in.observed.gateway_service) {
    {
      std::string host = r::ChildName(hm, "gateway") + "." + hm.ns + ".svc";
      const Json ingress = svc->value("status", Json::object())
                               .value("loadBalancer", Json::object())
                               .value("ingress", Json::array());
      if (!ingress.empty()) {
        host = ingress[0].value("ip", ingress[0].value("hostname", host));
      }
      const auto& s = hm.spec.gateway_service;
      status["endpoints"] = {{"telnet", host + ":" + std::to_string(s.telnet_port)},
                             {"web", "http://" + host + ":" + std::to_string(s.web_port) + "/ws"}};
    }
  }
  status["tls"] = {{"secretName", r::TlsSecretName(hm)}};
  if (tls.not_after) status["tls"]["notAfter"] = FormatTime(*tls.not_after);
  status["database"] = {{"secretName", r::DatabaseSecretName(hm)}};

  // Backups: the newest finished Jobs, remembered across Job TTLs in the status itself.
  const Json old_backup = hm.status.value("backup", Json::object());
  std::optional<int64_t> last_success = ParseTime(old_backup.value("lastSuccessTime", ""));
  std::optional<int64_t> last_failure = ParseTime(old_backup.value("lastFailureTime", ""));
  const std::string recorded_job = old_backup.value("lastJob", "");
  const std::string recorded_message = old_backup.value("message", "");
  std::string last_job = recorded_job;
  std::string failure_message = recorded_message;
  int64_t newest = std::max(last_success.value_or(0), last_failure.value_or(0));
  {
    for (const Json& job : in.observed.jobs) {
      const Json st = job.value("status", Json::object());
      for (const Json& c : st.value("conditions", Json::array())) {
        if (c.value("status", "") != "True") continue;
        const std::string type = c.value("type", "");
        if (type != "Complete" && type != "Failed") continue;
        const auto when = ParseTime(
            type == "Complete" ? st.value("completionTime", c.value("lastTransitionTime", ""))
                               : c.value("lastTransitionTime", ""));
        if (!when) continue;
        auto& slot = type == "Complete" ? last_success : last_failure;
        if (!slot || *when > *slot) slot = when;
        if (*when >= newest) {
          newest = *when;
          last_job = Field(job, "metadata").value("name", "");
          failure_message.clear();
          if (type == "Failed") {
            // The pod's own words ("server version mismatch"), read once and then kept in
            // the status; else the Job's ("reached the specified backoff limit").
            auto said = in.observed.job_failures.find(last_job);
            if (said != in.observed.job_failures.end()) {
              failure_message = said->second;
            } else if (last_job == recorded_job && !recorded_message.empty()) {
              failure_message = recorded_message;
            } else {
              failure_message = c.value("message", c.value("reason", ""));
            }
          }
        }
      }
    }
  }
  Json backup = Json::object();
  {
    if (const auto& cj = in.observed.backup_cronjob) {
      const std::string t = cj->value("status", Json::object()).value("lastScheduleTime", "");
      if (!t.empty()) backup["lastScheduleTime"] = t;
    }
  }
  if (last_success) backup["lastSuccessTime"] = FormatTime(*last_success);
  if (last_failure) backup["lastFailureTime"] = FormatTime(*last_failure);
  const bool failed_last = last_failure && (!last_success || *last_failure > *last_success);
  backup["lastResult"] = failed_last ? "Failed" : (last_success ? "Succeeded" : "None");
  if (!last_job.empty()) backup["lastJob"] = last_job;
  if (failed_last && !failure_message.empty()) backup["message"] = failure_message.substr(0, 1000);
  status["backup"] = backup;

  // Conditions.
  const std::string when = FormatTime(now);
  std::vector<Condition> conds;
  auto add = [&](const char* type, bool ok, const char* reason, const std::string& message,
                 const char* false_status = "False") {
    Condition c{type, ok ? "True" : false_status, reason, message.substr(0, 2000), hm.generation,
                ""};
    conds.push_back(CarryTransitionTime(c, FindCondition(hm.status, type), when));
  };
  const bool ready = core.exists && gateway.exists && core.complete && gateway.complete;
  const std::string replicas = "core " + std::to_string(core.ready) + "/" +
                               std::to_string(core.desired) + " ready, gateway " +
                               std::to_string(gateway.ready) + "/" +
                               std::to_string(gateway.desired) + " ready";
  add(conditions::kReady, ready, ready ? reasons::kAllReplicasReady : reasons::kReplicasNotReady,
      replicas);

  std::string degraded_reason;
  std::string degraded_message;
  if (!apply_error.empty()) {
    degraded_reason = reasons::kApplyFailed;
    degraded_message = apply_error;
  } else if (!tls.error.empty()) {
    degraded_reason = reasons::kTlsUnavailable;
    degraded_message = tls.error;
  } else if (core.stuck || gateway.stuck) {
    degraded_reason = reasons::kRolloutStuck;
    degraded_message = std::string(core.stuck ? "core" : "gateway") +
                       " Deployment is not progressing (ProgressDeadlineExceeded or "
                       "ReplicaFailure); see kubectl describe deployment";
  }
  const bool degraded = !degraded_reason.empty();
  add(conditions::kDegraded, degraded, degraded ? degraded_reason.c_str() : reasons::kReconciled,
      degraded ? degraded_message : "all children applied");

  if (hm.spec.paused) {
    add(conditions::kProgressing, false, reasons::kPaused,
        "spec.paused is true: children are left as they are");
  } else {
    add(conditions::kProgressing, !ready, ready ? reasons::kRolloutComplete : reasons::kRollingOut,
        ready ? "core and gateway are rolled out" : replicas);
  }

  if (!hm.spec.backup.enabled) {
    add(conditions::kBackupHealthy, false, reasons::kBackupDisabled,
        "spec.backup.enabled is false: no backups are made");
  } else if (failed_last) {
    add(conditions::kBackupHealthy, false, reasons::kBackupFailed,
        "backup Job " + last_job + " failed" +
            (failure_message.empty() ? "" : ": " + failure_message));
  } else if (last_success) {
    add(conditions::kBackupHealthy, true, reasons::kBackupSucceeded,
        "last backup succeeded at " + FormatTime(*last_success));
  } else {
    add(conditions::kBackupHealthy, false, reasons::kNoBackupYet,
        "no backup has finished yet (schedule \"" + hm.spec.backup.schedule + "\")", "Unknown");
  }

  const bool wants_monitoring =
      hm.spec.monitoring.service_monitors || hm.spec.monitoring.prometheus_rule;
  if (!wants_monitoring) {
    add(conditions::kMonitoringAvailable, false, reasons::kMonitoringDisabled,
        "spec.monitoring turns off both ServiceMonitors and the PrometheusRule");
  } else if (!in.monitoring_available) {
    add(conditions::kMonitoringAvailable, false, reasons::kMonitoringCrdsMissing,
        "the monitoring.coreos.com/v1 ServiceMonitor and PrometheusRule kinds are not installed "
        "(install prometheus-operator's CRDs; the operator adds the monitors within a minute); "
        "everything else works without them");
  } else if (!in.monitoring_applied) {
    add(conditions::kMonitoringAvailable, false, reasons::kApplyFailed,
        "applying the ServiceMonitors or PrometheusRule failed: " + apply_error);
  } else {
    add(conditions::kMonitoringAvailable, true, reasons::kMonitoringApplied,
        "ServiceMonitors and PrometheusRule are applied");
  }
  Json list = Json::array();
  for (const Condition& c : conds) list.push_back(ConditionToJson(c));
  status["conditions"] = list;

  const char* phase = phases::kPending;
  if (hm.spec.paused) {
    phase = phases::kPaused;
  } else if (degraded) {
    phase = phases::kDegraded;
  } else if (ready) {
    phase = phases::kReady;
  } else if (core.exists || gateway.exists) {
    phase = phases::kProgressing;
  }
  status["phase"] = phase;
  return status;
}

Json InvalidSpecStatus(const Json& object, const std::string& error, int64_t now) {
  Json status = object.value("status", Json::object());
  if (!status.is_object()) status = Json::object();
  const int64_t generation = Field(object, "metadata").value("generation", int64_t{0});
  Condition degraded{conditions::kDegraded,
                     "True",
                     reasons::kInvalidSpec,
                     ("the operator cannot use this spec: " + error).substr(0, 2000),
                     generation,
                     ""};
  degraded =
      CarryTransitionTime(degraded, FindCondition(status, conditions::kDegraded), FormatTime(now));
  Json list = Json::array();
  for (const Json& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") != conditions::kDegraded) list.push_back(c);
  }
  list.push_back(ConditionToJson(degraded));
  status["conditions"] = list;
  status["phase"] = phases::kDegraded;
  status["observedGeneration"] = generation;
  return status;
}

std::vector<Json> ConditionEvents(const HoloMush& hm, const Json& old_status,
                                  const Json& new_status, const std::string& reporting_instance,
                                  int64_t now) {
  std::vector<Json> events;
  for (const Json& c : new_status.value("conditions", Json::array())) {
    const std::string type = c.value("type", "");
    auto previous = FindCondition(old_status, type);
    if (previous && previous->status == c.value("status", "") &&
        previous->reason == c.value("reason", "")) {
      continue;
    }
    const bool bad = (type == conditions::kDegraded && c["status"] == "True") ||
                     (type != conditions::kDegraded && type != conditions::kProgressing &&
                      c["status"] == "False" && previous && previous->status == "True");
    const std::string micro = FormatTime(now).substr(0, 19) + ".000000Z";
    Json event = {
        {"apiVersion", "events.k8s.io/v1"},
        {"kind", "Event"},
        {"metadata", {{"name", hm.name + "." + RandomHex(8)}, {"namespace", hm.ns}}},
        {"eventTime", micro},
        {"reportingController", "holomush.io/holomush-operator"},
        {"reportingInstance", reporting_instance.substr(0, 128)},
        {"action", "Reconcile"},
        {"reason", c.value("reason", type)},
        {"type", bad ? "Warning" : "Normal"},
        {"note",
         (type + " is " + c.value("status", "") + ": " + c.value("message", "")).substr(0, 1000)},
        {"regarding",
         {{"apiVersion", kApiVersion},
          {"kind", kKind},
          {"name", hm.name},
          {"namespace", hm.ns},
          {"uid", hm.uid}}}};
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace holomush::op
