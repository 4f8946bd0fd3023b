// The operator's Prometheus metrics (names from docs/design/metrics.md).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace holomush::op {

// Owned by RunOperator (or a test); registers every family on `registry` once. Handles are
// thread-safe, so any thread may record.
class OperatorMetrics {
 public:
  explicit OperatorMetrics(std::shared_ptr<prometheus::Registry> registry);

  void ApiRequest(const std::string& verb, long code);
  void Reconciled(const std::string& controller, const std::string& result, double seconds);
  // Keys queued now, and keys with a requeue pending.
  void QueueDepth(const std::string& controller, size_t depth, size_t waiting);
  void Leader(bool leading);
  void Backup(const std::string& ns, const std::string& name, double last_success,
              double last_failure, double max_age);
  void ForgetBackup(const std::string& ns, const std::string& name);

  // Sum of holomush_operator_api_requests_total over `verb` (all codes); for tests.
  double ApiRequests(const std::string& verb) const;
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& reconcile_total_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Family<prometheus::Gauge>& queue_waiting_;
  prometheus::Family<prometheus::Counter>& api_requests_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Gauge>& backup_success_;
  prometheus::Family<prometheus::Gauge>& backup_failure_;
  prometheus::Family<prometheus::Gauge>& backup_max_age_;
};

}  // namespace holomush::op
