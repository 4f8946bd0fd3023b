// The TLS phase: the user's Secret, or the operator's generated certificates kept until a
// third of their validity is left.
#include "holomush/common/tls.hpp"

#include <algorithm>

#include "holomush/common/certs.hpp"
#include "holomush/operator/reconcile_phases.hpp"
#include "holomush/operator/resources.hpp"
#include "support.hpp"

namespace holomush::op {

namespace r = resources;
using controller_support::OwnedBy;

namespace {

const std::vector<std::string> kLeaves = {"core.crt", "gateway.crt", "cli.crt"};
// The leaves and the bundle's first CA: what the status reports as notAfter.
const std::vector<std::string> kCertificates = {"core.crt", "gateway.crt", "cli.crt", "ca.crt"};

// notAfter of the earliest of the certificates `names` in `files`.
std::optional<int64_t> EarliestNotAfter(const std::map<std::string, std::string>& files,
                                        const std::vector<std::string>& names) {
  std::optional<int64_t> earliest;
  for (const std::string& name : names) {
    auto it = files.find(name);
    if (it == files.end()) continue;
    auto t = common::CertificateNotAfter(it->second);
    if (t && (!earliest || *t < *earliest)) earliest = t;
  }
  return earliest;
}

// Whether each server certificate carries every name of its own in `names` and none of the
// other's (leaves made before the names were split carried both).
bool NamesFit(const std::map<std::string, std::string>& files,
              const std::map<std::string, std::vector<std::string>>& names) {
  for (const auto& [leaf, own] : names) {
    auto it = files.find(leaf + ".crt");
    if (it == files.end()) return false;
    const std::vector<std::string> have = common::CertificateDnsNames(it->second);
    for (const auto& [other, theirs] : names) {
      for (const std::string& name : theirs) {
        const bool has = std::find(have.begin(), have.end(), name) != have.end();
        if (has != (other == leaf)) return false;
      }
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

struct Ca {
  common::KeyPair pair;
  int64_t not_after = 0;
};

// The CA `prefix` (ca or next) from the live <name>-ca Secret, if this HoloMUSH owns it.
std::optional<Ca> ReadCa(const HoloMush& hm, const std::optional<Json>& secret,
                         const std::string& prefix) {
  if (!secret || !OwnedBy(*secret, hm.uid)) return std::nullopt;
  const Json data = secret->value("data", Json::object());
  const std::string crt = prefix + ".crt";
  const std::string key = prefix + ".key";
  if (!data.contains(crt) || !data[crt].is_string() || !data.contains(key) ||
      !data[key].is_string()) {
    return std::nullopt;
  }
  Ca ca{{r::Base64Decode(data[crt].get<std::string>()),
         r::Base64Decode(data[key].get<std::string>())},
        0};
  const auto not_after = common::CertificateNotAfter(ca.pair.certificate_pem);
  if (!not_after) return std::nullopt;
  ca.not_after = *not_after;
  return ca;
}

Ca MakeCa(int days, int64_t now) {
  Ca ca{common::GenerateCa(days, now), 0};
  ca.not_after = common::CertificateNotAfter(ca.pair.certificate_pem).value_or(0);
  return ca;
}

bool LeavesSignedBy(const std::map<std::string, std::string>& files, const std::string& ca) {
  for (const std::string& name : kLeaves) {
    auto it = files.find(name);
    if (it == files.end() || !common::SignedBy(it->second, ca)) return false;
  }
  return true;
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
  tls.not_after = EarliestNotAfter(*files, kCertificates);
  return tls;
}

TlsState PlanGeneratedTls(const HoloMush& hm, const std::optional<Json>& live_tls,
                          const std::optional<Json>& live_ca, int64_t now) {
  TlsState tls;
  const int64_t validity = int64_t{hm.spec.tls.validity_days} * 86400;
  const int64_t renew_before = validity / 3;
  // A CA outlives many leaves: three leaf lifetimes at least, ten years by default.
  const int ca_days = std::max(hm.spec.tls.validity_days * 3, 3650);
  try {
    std::optional<Ca> current = ReadCa(hm, live_ca, "ca");
    std::optional<Ca> next = ReadCa(hm, live_ca, "next");
    if (current && current->not_after <= now) current.reset();
    if (next && next->not_after <= now) next.reset();

    // The live leaves, if they are ours, complete, not due and name every Service.
    std::optional<std::map<std::string, std::string>> files;
    if (live_tls && OwnedBy(*live_tls, hm.uid)) {
      files = SecretFiles(*live_tls, nullptr);
      const auto not_after = files ? EarliestNotAfter(*files, kLeaves) : std::nullopt;
      if (!not_after || *not_after - renew_before <= now) files.reset();
      // Certificates made before a Service was added lack its name, and those made before
      // core and gateway had names of their own carry each other's: make new ones.
      if (files && !NamesFit(*files, r::CertificateSans(hm))) files.reset();
    }

    if (!current && files) {
      // Good leaves from a CA whose key was never kept (an operator before <name>-ca): keep
      // them, and let a next CA join the bundle now; it signs when they fall due.
      if (!next) next = MakeCa(ca_days, now);
    } else if (!current) {
      current = next ? *next : MakeCa(ca_days, now);
      next.reset();
    } else if (current->not_after - now < validity) {
      // Leaves made now would outlive this CA: sign with the next one, which every Pod has
      // trusted since it joined the bundle. (Had the operator been away for the whole
      // leaf lifetime in which it joins, a new one signs at once: Pods not yet rolled
      // refuse the new ones until they roll.) The old CA stays in the bundle, read back
      // from the live ca.crt below.
      current = next ? *next : MakeCa(ca_days, now);
      next.reset();
    }
    if (current && !next && current->not_after - now < 2 * validity) next = MakeCa(ca_days, now);

    if (files && current && !LeavesSignedBy(*files, current->pair.certificate_pem)) files.reset();
    if (!files) {
      common::CertificateOptions options;
      options.leaf_sans = r::CertificateSans(hm);
      options.validity_days = hm.spec.tls.validity_days;
      options.now = now;
      files = r::CertificateFiles(common::GenerateLeaves(options, current->pair));
      tls.generated = true;
    }

    // ca.crt: the current CA, the next one, and earlier ones until they expire, so a Pod
    // that has not rolled yet is still trusted by those that have, and the other way round.
    std::vector<std::string> bundle;
    auto trust = [&](const std::string& pem) {
      const auto not_after = common::CertificateNotAfter(pem);
      if (!not_after || *not_after <= now) return;
      if (std::find(bundle.begin(), bundle.end(), pem) == bundle.end()) bundle.push_back(pem);
    };
    if (current) trust(current->pair.certificate_pem);
    if (next) trust(next->pair.certificate_pem);
    if (live_tls && OwnedBy(*live_tls, hm.uid)) {
      const Json data = live_tls->value("data", Json::object());
      if (data.contains("ca.crt") && data["ca.crt"].is_string()) {
        for (const std::string& pem :
             common::SplitPemCertificates(r::Base64Decode(data["ca.crt"].get<std::string>()))) {
          trust(pem);
        }
      }
    }
    std::string ca_bundle;
    for (const std::string& pem : bundle) ca_bundle += pem;
    (*files)["ca.crt"] = ca_bundle;

    tls.files = *files;
    if (current) {
      tls.ca_files["ca.crt"] = current->pair.certificate_pem;
      tls.ca_files["ca.key"] = current->pair.private_key_pem;
    }
    if (next) {
      tls.ca_files["next.crt"] = next->pair.certificate_pem;
      tls.ca_files["next.key"] = next->pair.private_key_pem;
    }
    tls.hash = CertificateHash(tls.files);
    tls.not_after = EarliestNotAfter(tls.files, kCertificates);
    // Look again when the leaves are due, when the CA rotation takes its next step, and
    // when a CA in the bundle expires (it then leaves the bundle).
    const auto leaf_not_after = EarliestNotAfter(tls.files, kLeaves);
    int64_t wake = leaf_not_after ? *leaf_not_after - renew_before : now + 86400;
    if (current) wake = std::min(wake, current->not_after - (next ? validity : 2 * validity));
    for (const std::string& pem : bundle) {
      if (auto t = common::CertificateNotAfter(pem)) wake = std::min(wake, *t);
    }
    tls.renew_at = std::max(wake, now + 1);
  } catch (const std::exception& e) {
    tls = TlsState{};
    tls.error = std::string("generating certificates: ") + e.what();
  }
  return tls;
}

}  // namespace holomush::op
