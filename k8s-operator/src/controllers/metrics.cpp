#include "holomush/operator/metrics.hpp"

#include <prometheus/metric_family.h>

namespace holomush::op {

OperatorMetrics::OperatorMetrics(std::shared_ptr<prometheus::Registry> registry)
    : registry_(std::move(registry)),
      reconcile_total_(prometheus::BuildCounter()
                           .Name("holomush_operator_reconcile_total")
                           .Help("Reconciles finished, by controller and result.")
                           .Register(*registry_)),
      reconcile_errors_(prometheus::BuildCounter()
                            .Name("holomush_operator_reconcile_errors_total")
                            .Help("Reconciles that ended in an error.")
                            .Register(*registry_)),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("holomush_operator_reconcile_duration_seconds")
                              .Help("Time one reconcile took.")
                              .Register(*registry_)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("holomush_operator_workqueue_depth")
                       .Help("Keys waiting in the work queue.")
                       .Register(*registry_)),
      queue_waiting_(prometheus::BuildGauge()
                         .Name("holomush_operator_workqueue_waiting")
                         .Help("Keys with a requeue pending (at most one per key).")
                         .Register(*registry_)),
      api_requests_(prometheus::BuildCounter()
                        .Name("holomush_operator_api_requests_total")
                        .Help("Requests to the Kubernetes API, by verb and HTTP code.")
                        .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("holomush_operator_leader")
                  .Help("1 on the replica holding the leader lease.")
                  .Register(*registry_)
                  .Add({})),
      backup_success_(prometheus::BuildGauge()
                          .Name("holomush_operator_backup_last_success_timestamp_seconds")
                          .Help("Completion time of the newest successful backup Job.")
                          .Register(*registry_)),
      backup_failure_(prometheus::BuildGauge()
                          .Name("holomush_operator_backup_last_failure_timestamp_seconds")
                          .Help("Time of the newest failed backup Job.")
                          .Register(*registry_)),
      backup_max_age_(prometheus::BuildGauge()
                          .Name("holomush_operator_backup_max_age_seconds")
                          .Help("How old the newest success may be before it is stale.")
                          .Register(*registry_)) {
  for (const char* result : {"success", "error", "requeue"}) {
    reconcile_total_.Add({{"controller", "holomush"}, {"result", result}});
  }
  reconcile_errors_.Add({{"controller", "holomush"}});
  queue_depth_.Add({{"controller", "holomush"}});
  queue_waiting_.Add({{"controller", "holomush"}});
}

void OperatorMetrics::ApiRequest(const std::string& verb, long code) {
  api_requests_.Add({{"verb", verb}, {"code", code == 0 ? "error" : std::to_string(code)}})
      .Increment();
}

void OperatorMetrics::Reconciled(const std::string& controller, const std::string& result,
                                 double seconds) {
  reconcile_total_.Add({{"controller", controller}, {"result", result}}).Increment();
  if (result == "error") reconcile_errors_.Add({{"controller", controller}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  reconcile_duration_.Add({{"controller", controller}}, kBuckets).Observe(seconds);
}

void OperatorMetrics::QueueDepth(const std::string& controller, size_t depth, size_t waiting) {
  queue_depth_.Add({{"controller", controller}}).Set(static_cast<double>(depth));
  queue_waiting_.Add({{"controller", controller}}).Set(static_cast<double>(waiting));
}

void OperatorMetrics::Leader(bool leading) { leader_.Set(leading ? 1 : 0); }

void OperatorMetrics::Backup(const std::string& ns, const std::string& name, double last_success,
                             double last_failure, double max_age) {
  const prometheus::Labels labels = {{"namespace", ns}, {"holomush", name}};
  backup_success_.Add(labels).Set(last_success);
  backup_failure_.Add(labels).Set(last_failure);
  backup_max_age_.Add(labels).Set(max_age);
}

void OperatorMetrics::ForgetBackup(const std::string& ns, const std::string& name) {
  const prometheus::Labels labels = {{"namespace", ns}, {"holomush", name}};
  for (auto* family : {&backup_success_, &backup_failure_, &backup_max_age_}) {
    if (family->Has(labels)) family->Remove(&family->Add(labels));
  }
}

double OperatorMetrics::ApiRequests(const std::string& verb) const {
  double total = 0;
  for (const auto& family : api_requests_.Collect()) {
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "verb" && label.value == verb) total += metric.counter.value;
      }
    }
  }
  return total;
}

}  // namespace holomush::op
