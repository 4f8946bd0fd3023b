// The TLS phase: the user's Secret, or the operator's generated certificates kept until a
// third of their validity is left.
#include <algorithm>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/resources.hpp"
#include "support.hpp"

namespace holomush::op {

namespace r = resources;
using controller_support::OwnedBy;

namespace {

// notAfter of the earliest of the certificates in `files`.
std::optional<int64_t> EarliestNotAfter(const std::map<std::string, std::string>& files) {
  std::optional<int64_t> earliest;
  for (const char* name : {"core.crt", "gateway.crt", "cli.crt", "ca.crt"}) {
    auto it = files.find(name);
    if (it == files.end()) continue;
    auto t = common::CertificateNotAfter(it->second);
    if (t && (!earliest || *t < *earliest)) earliest = t;
  }
  return earliest;
}

// Whether the core and gateway certificates both carry every name in `names`.
bool CoversNames(const std::map<std::string, std::string>& files,
                 const std::vector<std::string>& names) {
  for (const char* leaf : {"core.crt", "gateway.crt"}) {
    auto it = files.find(leaf);
    if (it == files.end()) return false;
    const std::vector<std::string> have = common::CertificateDnsNames(it->second);
    for (const std::string& name : names) {
      if (std::find(have.begin(), have.end(), name) == have.end()) return false;
    }
  }
  return true;
}

std::string CertificateHash(const std::map<std::string, std::string>& files) {
  Json certs = Json::object();
  for (const auto& [name, pem] : files) {
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".crt") == 0) certs[name] = pem;
  }
  return r::Hash(certs).substr(0, 16);
}

// Every file the pods mount, decoded; nullopt when one is missing.
std::optional<std::map<std::string, std::string>> SecretFiles(const Json& secret,
                                                              std::string* missing) {
  const Json data = secret.value("data", Json::object());
  std::map<std::string, std::string> files;
  for (const std::string& name : r::TlsFileNames()) {
    if (!data.contains(name) || !data[name].is_string()) {
      if (missing != nullptr) *missing = name;
      return std::nullopt;
    }
    files[name] = r::Base64Decode(data[name].get<std::string>());
  }
  return files;
}

}  // namespace

TlsState TlsFromUserSecret(const std::string& secret_name, const common::Result<Json>& secret) {
  TlsState tls;
  if (!secret.ok()) {
    tls.error = "TLS Secret " + secret_name + ": " + secret.error().message;
    return tls;
  }
  std::string missing;
  auto files = SecretFiles(secret.value(), &missing);
  if (!files) {
    tls.error = "TLS Secret " + secret_name + " has no " + missing;
    return tls;
  }
  tls.hash = CertificateHash(*files);
  tls.not_after = EarliestNotAfter(*files);
  return tls;
}

TlsState PlanGeneratedTls(const HoloMush& hm, const std::optional<Json>& live_secret, int64_t now) {
  TlsState tls;
  const int64_t validity = int64_t{hm.spec.tls.validity_days} * 86400;
  const int64_t renew_before = validity / 3;
  std::optional<std::map<std::string, std::string>> files;
  if (live_secret && OwnedBy(*live_secret, hm.uid)) {
    files = SecretFiles(*live_secret, nullptr);
    const auto not_after = files ? EarliestNotAfter(*files) : std::nullopt;
    if (!not_after || *not_after - renew_before <= now) files.reset();
    // Certificates made before a Service was added lack its name: make new ones.
    if (files && !CoversNames(*files, r::CertificateSans(hm))) files.reset();
  }
  if (!files) {
    try {
      common::CertificateOptions options;
      options.extra_sans = r::CertificateSans(hm);
      options.validity_days = hm.spec.tls.validity_days;
      options.ca_validity_days = std::max(hm.spec.tls.validity_days * 2, 3650);
      files = r::CertificateFiles(common::GenerateCertificateSet(options));
      tls.generated = true;
    } catch (const std::exception& e) {
      tls.error = std::string("generating certificates: ") + e.what();
      return tls;
    }
  }
  tls.files = *files;
  tls.hash = CertificateHash(tls.files);
  tls.not_after = EarliestNotAfter(tls.files);
  if (tls.not_after) tls.renew_at = *tls.not_after - renew_before;
  return tls;
}

}  // namespace holomush::op
