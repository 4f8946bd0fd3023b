// The apply phase: server-side apply of what changed (by the applied-hash annotation), and
// pruning of children a toggle turned off.
#include <set>

#include "holomush/operator/controller.hpp"
#include "holomush/operator/resources.hpp"
#include "support.hpp"

namespace holomush::op {

namespace r = resources;
using common::ErrorKind;
using common::MakeError;
using controller_support::Annotation;
using controller_support::Field;
using controller_support::OwnedBy;

namespace {

// Kinds the operator writes and may delete when a toggle turns them off. Secrets (database
// password, TLS) and PersistentVolumeClaims (backups) are never pruned: they hold data.
const std::vector<std::string> kPrunable = {
    "Deployment", "Service",     "ConfigMap",      "PodDisruptionBudget", "NetworkPolicy",
    "CronJob",    "StatefulSet", "ServiceMonitor", "PrometheusRule"};

}  // namespace

common::Result<bool> Controller::ApplyChild(const Json& want) {
  const std::string kind = want.at("kind").get<std::string>();
  const ResourceType* type = kinds::ForKind(kind);
  if (type == nullptr) return MakeError(ErrorKind::kInternal, "no resource type for " + kind);
  const Json& meta = want["metadata"];
  Informer* cache = InformerFor(kind);
  if (cache != nullptr) {
    auto live = cache->Get(meta.value("namespace", ""), meta.value("name", ""));
    if (live &&
        Annotation(*live, r::kAppliedHashAnnotation) ==
            Annotation(want, r::kAppliedHashAnnotation) &&
        r::Covers(*live, want)) {
      return false;  // unchanged: write nothing
    }
  }
  auto applied = client_.Apply(*type, want);
  if (!applied.ok()) return applied.error();
  if (cache != nullptr) cache->Upsert(applied.value());
  return true;
}

std::string Controller::Prune(const HoloMush& hm, const std::vector<Json>& rendered) {
  std::set<std::string> wanted;
  for (const Json& o : rendered) {
    wanted.insert(o["kind"].get<std::string>() + "/" + o["metadata"]["name"].get<std::string>());
  }
  std::vector<std::pair<std::string, std::string>> doomed;  // kind, name
  for (const std::string& kind : kPrunable) {
    Informer* cache = InformerFor(kind);
    if (cache == nullptr) continue;
    for (const Json& o : cache->ListByLabel(hm.ns, r::kInstanceLabel, hm.name)) {
      const std::string name = Field(o, "metadata").value("name", "");
      if (OwnedBy(o, hm.uid) && !wanted.count(kind + "/" + name)) doomed.emplace_back(kind, name);
    }
  }
  // The generated TLS Secret and its CA go when the user brings their own.
  if (!hm.spec.tls.secret_name.empty()) {
    if (Informer* secrets = InformerFor(kinds::kSecret.kind)) {
      for (const char* child : {"tls", "ca"}) {
        if (auto s = secrets->Get(hm.ns, r::ChildName(hm, child)); s && OwnedBy(*s, hm.uid)) {
          doomed.emplace_back("Secret", r::ChildName(hm, child));
        }
      }
    }
  }
  for (const auto& [kind, name] : doomed) {
    auto st = client_.Delete(*kinds::ForKind(kind), hm.ns, name);
    if (!st.ok()) return st.error().message;
    log_.Info("deleted child",
              {{"holomush", hm.ns + "/" + hm.name}, {"kind", kind}, {"name", name}});
  }
  return "";
}

}  // namespace holomush::op
