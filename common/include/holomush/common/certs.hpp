// The certificate set of a HoloMUSH installation: a CA plus core, gateway and cli leaves.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace holomush::common {

struct KeyPair {
  std::string certificate_pem;
  std::string private_key_pem;
};

struct CertificateSet {
  KeyPair ca;
  // "core" (server), "gateway" (server and client), "cli" (client).
  std::map<std::string, KeyPair> leaves;
};

struct CertificateOptions {
  // Extra subject alternative names for the server certificates (DNS names or IPs);
  // localhost, 127.0.0.1 and ::1 are always included.
  std::vector<std::string> extra_sans;
  // Names only one server certificate carries ("core", "gateway"), so a client dialling
  // core by name refuses the gateway's certificate, whatever CA signed both.
  std::map<std::string, std::vector<std::string>> leaf_sans;
  int validity_days = 365;
  int ca_validity_days = 3650;
  // Unix seconds the validity counts from (an hour of clock skew is allowed before it);
  // 0 is now.
  int64_t now = 0;
};

// ECDSA P-256 throughout. Throws std::runtime_error when OpenSSL fails.
CertificateSet GenerateCertificateSet(const CertificateOptions& options);
// A self-signed CA valid for `days` from `now` (0: from now).
KeyPair GenerateCa(int days, int64_t now = 0);
// New leaves signed by an existing CA (set.ca is `ca`): a renewal that every holder of the
// CA's certificate keeps trusting. Throws std::runtime_error when `ca` does not parse.
CertificateSet GenerateLeaves(const CertificateOptions& options, const KeyPair& ca);

// Whether `certificate_pem` carries a signature that `issuer_pem`'s key made (no time or
// purpose checks: what a peer holding `issuer_pem` as its CA would accept).
bool SignedBy(const std::string& certificate_pem, const std::string& issuer_pem);
// The certificates of a PEM bundle, each as its own PEM text, in order.
std::vector<std::string> SplitPemCertificates(const std::string& bundle);

// Writes ca.crt, ca.key, <leaf>.crt and <leaf>.key into `dir` (created 0700; keys 0600).
void WriteCertificateSet(const CertificateSet& set, const std::string& dir);

}  // namespace holomush::common
