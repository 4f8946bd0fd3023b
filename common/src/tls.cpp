#include "holomush/common/tls.hpp"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/auth_metadata_processor.h>
#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "x509_handles.hpp"

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

namespace {

using x509::CertPtr;
using x509::ParseCertificate;

std::string SubjectText(const X509* cert) {
  char text[256];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof text);
  return text;
}

// Lets a call through only when the peer's certificate (already verified against the CA by
// the handshake) has the subject of one of the certificates the server accepts. Subjects,
// not keys: a renewal keeps a component's subject, so Pods on old and new leaves still talk.
class PeerSubjectCheck final : public grpc::AuthMetadataProcessor {
 public:
  PeerSubjectCheck(std::string server, std::vector<CertPtr> accepted, std::string accepted_text)
      : server_(std::move(server)),
        accepted_(std::move(accepted)),
        accepted_text_(std::move(accepted_text)) {}

  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& /*auth_metadata*/, grpc::AuthContext* context,
                       OutputMetadata* /*consumed*/, OutputMetadata* /*response*/) override {
    const auto pems = context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
    const CertPtr peer =
        pems.empty() ? nullptr : ParseCertificate({pems[0].data(), pems[0].size()});
    if (peer != nullptr) {
      for (const CertPtr& cert : accepted_) {
        if (X509_NAME_cmp(X509_get_subject_name(peer.get()), X509_get_subject_name(cert.get())) ==
            0) {
          return grpc::Status::OK;
        }
      }
    }
    const std::string who = peer != nullptr ? "'" + SubjectText(peer.get()) + "'" : "presented";
    return {grpc::StatusCode::UNAUTHENTICATED, "the certificate " + who + " may not call " +
                                                   server_ + " (it accepts " + accepted_text_ +
                                                   ")"};
  }

 private:
  const std::string server_;
  const std::vector<CertPtr> accepted_;
  const std::string accepted_text_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> MutualTlsServerCredentials(
    const std::string& dir, const std::string& name, const std::vector<std::string>& clients) {
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = ReadFileOrThrow(dir + "/ca.crt");
  options.pem_key_cert_pairs.push_back(
      {ReadFileOrThrow(dir + "/" + name + ".key"), ReadFileOrThrow(dir + "/" + name + ".crt")});
  std::vector<CertPtr> accepted;
  std::string accepted_text;
  for (const std::string& client : clients) {
    const std::string path = dir + "/" + client + ".crt";
    CertPtr cert = ParseCertificate(ReadFileOrThrow(path));
    if (cert == nullptr) throw std::runtime_error(path + " is not a PEM certificate");
    accepted_text +=
        (accepted_text.empty() ? "" : ", ") + client + " '" + SubjectText(cert.get()) + "'";
    accepted.push_back(std::move(cert));
  }
  auto credentials = grpc::SslServerCredentials(options);
  credentials->SetAuthMetadataProcessor(
      std::make_shared<PeerSubjectCheck>(name, std::move(accepted), accepted_text));
  return credentials;
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
  const CertPtr cert = ParseCertificate(pem);
  if (cert == nullptr) return std::nullopt;
  struct tm tm {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) return std::nullopt;
  return timegm(&tm);
}

std::vector<std::string> CertificateDnsNames(const std::string& pem) {
  std::vector<std::string> names;
  const CertPtr cert = ParseCertificate(pem);
  if (cert == nullptr) return names;
  auto* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  return names;
}

}  // namespace holomush::common
