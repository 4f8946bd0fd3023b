// The certificate set of a HoloMUSH installation: a CA plus core, gateway and cli leaves.
#pragma once

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
  int validity_days = 365;
  int ca_validity_days = 3650;
};

// ECDSA P-256 throughout. Throws std::runtime_error when OpenSSL fails.
CertificateSet GenerateCertificateSet(const CertificateOptions& options);

// Writes ca.crt, ca.key, <leaf>.crt and <leaf>.key into `dir` (created 0700; keys 0600).
void WriteCertificateSet(const CertificateSet& set, const std::string& dir);

}  // namespace holomush::common
