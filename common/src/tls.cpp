#include "holomush/common/tls.hpp"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace holomush::common {

std::string DefaultTlsDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/holomush/certs";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.config/holomush/certs";
}

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(const std::string& dir,
                                                                    const std::string& name) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ReadFileOrThrow(dir + "/ca.crt");
  options.pem_key_cert_pairs.push_back(
      {ReadFileOrThrow(dir + "/" + name + ".key"), ReadFileOrThrow(dir + "/" + name + ".crt")});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MutualTlsClientCredentials(const std::string& dir,
                                                                     const std::string& name) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFileOrThrow(dir + "/ca.crt");
  options.pem_private_key = ReadFileOrThrow(dir + "/" + name + ".key");
  options.pem_cert_chain = ReadFileOrThrow(dir + "/" + name + ".crt");
  return grpc::SslCredentials(options);
}

std::optional<int64_t> CertificateNotAfter(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return std::nullopt;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return std::nullopt;
  std::optional<int64_t> result;
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) result = timegm(&tm);
  X509_free(cert);
  return result;
}

std::vector<std::string> CertificateDnsNames(const std::string& pem) {
  std::vector<std::string> names;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return names;
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  X509_free(cert);
  return names;
}

}  // namespace holomush::common
