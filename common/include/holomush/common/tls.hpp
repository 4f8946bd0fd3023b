// Mutual TLS for gRPC: credentials from the files `holomush certs init` writes.
#pragma once

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace holomush::common {

// $XDG_CONFIG_HOME/holomush/certs, or ~/.config/holomush/certs.
std::string DefaultTlsDir();

// Reads a whole file; throws std::runtime_error naming the file when it cannot.
std::string ReadFileOrThrow(const std::string& path);

// Server credentials for `name` (core, gateway): <dir>/<name>.crt/.key. A client must present
// a certificate signed by <dir>/ca.crt whose subject is that of one of <dir>/<client>.crt
// for `clients` (gateway, cli): the CA alone does not let core's own key, or another
// component's, make calls it was never meant to. Other callers get UNAUTHENTICATED, naming
// the certificate they presented. Throws when a file cannot be read.
std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(
    const std::string& dir, const std::string& name, const std::vector<std::string>& clients);
// Client credentials for `name` (gateway, cli) trusting <dir>/ca.crt.
std::shared_ptr<grpc::ChannelCredentials> MutualTlsClientCredentials(const std::string& dir,
                                                                     const std::string& name);

// notAfter of the first certificate in a PEM string, as Unix seconds.
std::optional<int64_t> CertificateNotAfter(const std::string& pem);

// The DNS subject alternative names of the first certificate in a PEM string (empty when
// it cannot be read).
std::vector<std::string> CertificateDnsNames(const std::string& pem);

}  // namespace holomush::common
