#include "holomush/common/process_metrics.hpp"

#include <fstream>
#include <sstream>

#include "holomush/common/tls.hpp"
#include "holomush/common/version.hpp"

namespace holomush::common {

ProcessMetrics::ProcessMetrics(prometheus::Registry& registry, const std::string& component,
                               Health& health)
    : cert_family_(prometheus::BuildGauge()
                       .Name("holomush_tls_certificate_not_after_timestamp_seconds")
                       .Help("Expiry (notAfter) of each TLS certificate the process loaded.")
                       .Register(registry)) {
  prometheus::BuildGauge()
      .Name("holomush_build_info")
      .Help("Always 1; labels carry the component and version.")
      .Register(registry)
      .Add({{"component", component}, {"version", kVersion}})
      .Set(1);
  auto& ready = prometheus::BuildGauge()
                    .Name("holomush_ready")
                    .Help("1 while the readiness probe passes, 0 otherwise.")
                    .Register(registry)
                    .Add({});
  health.OnChange([&ready](bool ok) { ready.Set(ok ? 1 : 0); });
}

void ProcessMetrics::RecordCertificates(const std::string& tls_dir, const std::string& tls_name) {
  auto record = [&](const std::string& file, const std::string& label) {
    std::ifstream in(tls_dir + "/" + file);
    if (!in) return;
    std::stringstream pem;
    pem << in.rdbuf();
    if (auto not_after = CertificateNotAfter(pem.str())) {
      cert_family_.Add({{"certificate", label}}).Set(static_cast<double>(*not_after));
    }
  };
  record("ca.crt", "ca");
  record(tls_name + ".crt", tls_name);
}

}  // namespace holomush::common
