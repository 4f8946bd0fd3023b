#include "core_metrics.hpp"

namespace holomush::core {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

}  // namespace

CoreMetrics::CoreMetrics(prometheus::Registry& registry)
    : events_(prometheus::BuildCounter()
                  .Name("holomush_events_total")
                  .Help("Events appended, by type.")
                  .Register(registry)),
      sessions_active_(prometheus::BuildGauge()
                           .Name("holomush_sessions_active")
                           .Help("Sessions with at least one live connection to this process.")
                           .Register(registry)
                           .Add({})),
      grpc_requests_(prometheus::BuildCounter()
                         .Name("holomush_grpc_requests_total")
                         .Help("Finished gRPC calls by method and status code.")
                         .Register(registry)),
      grpc_latency_(prometheus::BuildHistogram()
                        .Name("holomush_grpc_latency_seconds")
                        .Help("gRPC latency by method (Session: per command).")
                        .Register(registry)),
      alias_rollback_failures_(
          prometheus::BuildCounter()
              .Name("holomush_alias_rollback_failures_total")
              .Help("Alias writes whose rollback failed: database and cache disagree (manual fix).")
              .Register(registry)
              .Add({})),
      commands_(prometheus::BuildCounter()
                    .Name("holomush_commands_total")
                    .Help("Commands executed, by command.")
                    .Register(registry)),
      commands_refused_(prometheus::BuildCounter()
                            .Name("holomush_commands_refused_total")
                            .Help("Commands refused by flood control, by reason (rate: over the "
                                  "session's rate; backlog: too many waiting).")
                            .Register(registry)),
      batch_size_(prometheus::BuildHistogram()
                      .Name("holomush_event_append_batch_size")
                      .Help("Events per group-commit transaction.")
                      .Register(registry)
                      .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128,
                                                                       256, 512})) {
  // Exported at 0 from the start, so a fresh scrape shows every reason.
  for (const char* reason : {"rate", "backlog"}) commands_refused_.Add({{"reason", reason}});
}

void CoreMetrics::EventAppended(const std::string& type) {
  events_.Add({{"type", type}}).Increment();
}

void CoreMetrics::Command(const std::string& command) {
  commands_.Add({{"command", command}}).Increment();
}

void CoreMetrics::CommandRefused(const std::string& reason) {
  commands_refused_.Add({{"reason", reason}}).Increment();
}

void CoreMetrics::Grpc(const std::string& method, const std::string& code,
                       std::chrono::steady_clock::duration latency) {
  grpc_requests_.Add({{"method", method}, {"code", code}}).Increment();
  GrpcLatency(method, latency);
}

void CoreMetrics::GrpcCall(const std::string& method, const std::string& code) {
  grpc_requests_.Add({{"method", method}, {"code", code}}).Increment();
}

void CoreMetrics::ExportKnownLabels(const std::vector<std::string>& commands,
                                    const std::vector<std::string>& event_types,
                                    const std::vector<std::string>& grpc_methods) {
  for (const auto& command : commands) commands_.Add({{"command", command}});
  for (const auto& type : event_types) events_.Add({{"type", type}});
  for (const auto& method : grpc_methods) {
    grpc_requests_.Add({{"method", method}, {"code", "OK"}});
    grpc_latency_.Add({{"method", method}}, kLatencyBuckets);
  }
}

void CoreMetrics::GrpcLatency(const std::string& method,
                              std::chrono::steady_clock::duration latency) {
  grpc_latency_.Add({{"method", method}}, kLatencyBuckets)
      .Observe(std::chrono::duration<double>(latency).count());
}

void CoreMetrics::AliasRollbackFailed() { alias_rollback_failures_.Increment(); }

void CoreMetrics::BatchCommitted(size_t events) {
  batch_size_.Observe(static_cast<double>(events));
}

}  // namespace holomush::core
