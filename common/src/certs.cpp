#include "holomush/common/certs.hpp"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "x509_handles.hpp"

namespace holomush::common {
namespace {

using x509::BioPtr;
using x509::CertPtr;
using x509::KeyPtr;
using x509::ParseCertificate;

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("certificate generation failed: ") + what);
}

KeyPtr NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  Check(key != nullptr, "EC key");
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  Check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

CertPtr NewCertificate(const std::string& common_name, EVP_PKEY* key, int days, int64_t now) {
  CertPtr cert(X509_new());
  Check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial_bytes[16];
  Check(RAND_bytes(serial_bytes, sizeof serial_bytes) == 1, "serial");
  serial_bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  time_t from = now != 0 ? static_cast<time_t>(now) : std::time(nullptr);
  Check(X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, -3600, &from) != nullptr, "notBefore");
  Check(X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &from) != nullptr, "notAfter");
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("HoloMUSH"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

std::string CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_X509(bio.get(), cert) == 1, "PEM certificate");
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

std::string KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM key");
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

KeyPtr ParseKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return nullptr;
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

bool LooksLikeIp(const std::string& s) {
  return s.find_first_not_of("0123456789.") == std::string::npos ||
         s.find(':') != std::string::npos;
}

}  // namespace

KeyPair GenerateCa(int days, int64_t now) {
  KeyPtr ca_key = NewKey();
  CertPtr ca = NewCertificate("HoloMUSH CA", ca_key.get(), days, now);
  X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
  AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  Check(X509_sign(ca.get(), ca_key.get(), EVP_sha256()) > 0, "sign CA");
  return {CertPem(ca.get()), KeyPem(ca_key.get())};
}

CertificateSet GenerateLeaves(const CertificateOptions& options, const KeyPair& ca_pair) {
  CertPtr ca = ParseCertificate(ca_pair.certificate_pem);
  KeyPtr ca_key = ParseKey(ca_pair.private_key_pem);
  Check(ca != nullptr && ca_key != nullptr, "the CA's certificate or key does not parse");
  CertificateSet set;
  set.ca = ca_pair;
  auto add = [](std::string& sans, const std::vector<std::string>& names) {
    for (const auto& san : names) sans += (LooksLikeIp(san) ? ",IP:" : ",DNS:") + san;
  };
  std::string shared_sans = "DNS:localhost,IP:127.0.0.1,IP:::1";
  add(shared_sans, options.extra_sans);
  struct Leaf {
    const char* name;
    const char* usage;
    bool server;
  };
  for (const Leaf& leaf :
       {Leaf{"core", "serverAuth,clientAuth", true}, Leaf{"gateway", "serverAuth,clientAuth", true},
        Leaf{"cli", "clientAuth", false}}) {
    KeyPtr key = NewKey();
    CertPtr cert = NewCertificate(std::string("holomush-") + leaf.name, key.get(),
                                  options.validity_days, options.now);
    X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
    AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    AddExtension(cert.get(), ca.get(), NID_ext_key_usage, leaf.usage);
    AddExtension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    std::string sans = shared_sans;
    if (auto own = options.leaf_sans.find(leaf.name); own != options.leaf_sans.end()) {
      add(sans, own->second);
    }
    AddExtension(cert.get(), ca.get(), NID_subject_alt_name,
                 leaf.server ? sans : "DNS:holomush-cli");
    Check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign leaf");
    set.leaves[leaf.name] = {CertPem(cert.get()), KeyPem(key.get())};
  }
  return set;
}

CertificateSet GenerateCertificateSet(const CertificateOptions& options) {
  return GenerateLeaves(options, GenerateCa(options.ca_validity_days, options.now));
}

bool SignedBy(const std::string& certificate_pem, const std::string& issuer_pem) {
  CertPtr cert = ParseCertificate(certificate_pem);
  CertPtr issuer = ParseCertificate(issuer_pem);
  if (cert == nullptr || issuer == nullptr) return false;
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  return key != nullptr && X509_verify(cert.get(), key) == 1;
}

std::vector<std::string> SplitPemCertificates(const std::string& bundle) {
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string> out;
  size_t from = 0;
  while (true) {
    const size_t begin = bundle.find("-----BEGIN CERTIFICATE-----", from);
    if (begin == std::string::npos) break;
    const size_t end = bundle.find(kEnd, begin);
    if (end == std::string::npos) break;
    from = end + kEnd.size();
    out.push_back(bundle.substr(begin, from - begin) + "\n");
  }
  return out;
}

void WriteCertificateSet(const CertificateSet& set, const std::string& dir) {
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  auto write = [&](const std::string& file, const std::string& content, bool secret) {
    const std::string path = dir + "/" + file;
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw std::runtime_error("cannot write " + tmp);
      ::chmod(tmp.c_str(), secret ? 0600 : 0644);
      out << content;
      if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
  };
  write("ca.crt", set.ca.certificate_pem, false);
  write("ca.key", set.ca.private_key_pem, true);
  for (const auto& [name, pair] : set.leaves) {
    write(name + ".crt", pair.certificate_pem, false);
    write(name + ".key", pair.private_key_pem, true);
  }
}

}  // namespace holomush::common
