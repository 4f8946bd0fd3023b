// The phases of one HoloMUSH reconcile that need no API server: TLS (use the user's Secret, keep
// or renew the generated one) and status (conditions, phase, backups, endpoints, and the events
// a change of condition records). Controller::Reconcile observes the caches, calls these,
// renders with resources::RenderChildren, applies, and writes what they return; a test calls
// each on its own with the objects it wants the cluster to hold.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"
#include "holomush/operator/api.hpp"

namespace holomush::op {

// What the TLS phase decided.
struct TlsState {
  std::map<std::string, std::string> files;  // generated files (empty for a user Secret)
  // The signing CA, kept in <name>-ca (never mounted): ca.crt, ca.key, and during a CA
  // rotation next.crt, next.key. Empty for a user Secret.
  std::map<std::string, std::string> ca_files;
  std::string hash;                  // of the certificates; pod templates carry it
  std::optional<int64_t> not_after;  // the earliest certificate's
  std::optional<int64_t> renew_at;   // generated only: when to look again (leaves or CA)
  bool generated = false;            // new certificates were made by this call
  std::string error;                 // non-empty: nothing may be applied
};

// spec.tls.secretName: the user's Secret as read from the API (or the error reading it).
TlsState TlsFromUserSecret(const std::string& secret_name, const common::Result<Json>& secret);

// The operator's own certificates. Leaves (<name>-tls) are kept while they are owned by this
// HoloMUSH, complete, signed by the current CA, cover every Service name and have more than a
// third of their validity left; renewed leaves are signed by the same CA (<name>-ca), so old
// and new Pods trust each other through a rollout. The CA itself rotates in two steps, each
// a rollout apart: with less than two leaf lifetimes left a next CA joins the trusted bundle
// (ca.crt), with less than one the leaves are signed by it; a retired CA stays in the bundle
// until it expires.
TlsState PlanGeneratedTls(const HoloMush& hm, const std::optional<Json>& live_tls,
                          const std::optional<Json>& live_ca, int64_t now);

// The children the status reads, as the caches hold them.
struct Observed {
  std::optional<Json> core_deployment;
  std::optional<Json> gateway_deployment;
  std::optional<Json> gateway_service;
  std::optional<Json> backup_cronjob;
  std::vector<Json> jobs;  // this HoloMUSH's Jobs (backups)
  // Why a failed backup Job's pod ended (its termination message: the command's own last
  // words), by Job name; read only for failures the status does not hold yet.
  std::map<std::string, std::string> job_failures;
};

struct StatusInput {
  const HoloMush* hm = nullptr;
  Observed observed;
  const TlsState* tls = nullptr;
  std::string apply_error;            // the first child that failed to apply or prune
  bool monitoring_available = false;  // the monitoring CRDs are served
  bool monitoring_applied = false;    // and the monitors and rules were applied
  int64_t now = 0;
};

// The whole .status: conditions (transition times carried from hm->status), phase, replica
// counts, endpoints, TLS and database Secrets, and backup results remembered across Job TTLs.
Json BuildStatus(const StatusInput& in);

// The status of a HoloMUSH whose spec the operator cannot read (one the CRD schema let
// through): Degraded InvalidSpec with the reason, phase Degraded, other conditions kept.
Json InvalidSpecStatus(const Json& object, const std::string& error, int64_t now);

// One events.k8s.io/v1 Event per condition whose status or reason changed from `old_status`
// to `new_status`; a condition going bad is a Warning.
std::vector<Json> ConditionEvents(const HoloMush& hm, const Json& old_status,
                                  const Json& new_status, const std::string& reporting_instance,
                                  int64_t now);

}  // namespace holomush::op
