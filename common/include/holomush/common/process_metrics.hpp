// The metrics every HoloMUSH process exports, on the one registry the process owns.
#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "holomush/common/health.hpp"

namespace holomush::common {

// Registers holomush_build_info and holomush_ready (following `health`), and
// holomush_tls_certificate_not_after_timestamp_seconds for each certificate file found in
// `tls_dir` for `tls_name`. Owned by main; lives as long as the registry.
class ProcessMetrics {
 public:
  ProcessMetrics(prometheus::Registry& registry, const std::string& component, Health& health);
  void RecordCertificates(const std::string& tls_dir, const std::string& tls_name);

 private:
  prometheus::Family<prometheus::Gauge>& cert_family_;
};

}  // namespace holomush::common
