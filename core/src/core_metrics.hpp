// The core process's metrics (names fixed by the operations guide; docs/design/metrics.md).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <string>
#include <vector>

namespace holomush::core {

// Registered once per process on its registry; the handles are thread-safe.
class CoreMetrics {
 public:
  explicit CoreMetrics(prometheus::Registry& registry);

  void EventAppended(const std::string& type);
  void Command(const std::string& command);
  // reason: "rate" or "backlog".
  void CommandRefused(const std::string& reason);
  void Grpc(const std::string& method, const std::string& code,
            std::chrono::steady_clock::duration latency);
  void GrpcLatency(const std::string& method, std::chrono::steady_clock::duration latency);
  // Counts a call without timing it (streams, whose commands are timed one by one).
  void GrpcCall(const std::string& method, const std::string& code);
  // Exports every known label value at 0 from the start, so a fresh scrape shows each
  // documented series (and rate() over a first increment works).
  void ExportKnownLabels(const std::vector<std::string>& commands,
                         const std::vector<std::string>& event_types,
                         const std::vector<std::string>& grpc_methods);
  void AliasRollbackFailed();
  void BatchCommitted(size_t events);
  prometheus::Gauge& sessions_active() { return sessions_active_; }
  double alias_rollback_failures() const { return alias_rollback_failures_.Value(); }

 private:
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Gauge& sessions_active_;
  prometheus::Family<prometheus::Counter>& grpc_requests_;
  prometheus::Family<prometheus::Histogram>& grpc_latency_;
  prometheus::Counter& alias_rollback_failures_;
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Family<prometheus::Counter>& commands_refused_;
  prometheus::Histogram& batch_size_;
};

}  // namespace holomush::core
