#include "holomush/common/certs.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "holomush/common/tls.hpp"
#include "holomush/core/v1/core.grpc.pb.h"
#include "support/net.hpp"

namespace holomush::common {
namespace {

namespace fs = std::filesystem;

class CertsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("holomush-certs-" + std::to_string(getpid())));
    other_ = new fs::path(*dir_ / "other");
    WriteCertificateSet(GenerateCertificateSet({.extra_sans = {"core.example", "10.1.2.3"}}),
                        dir_->string());
    WriteCertificateSet(GenerateCertificateSet({}), other_->string());
  }
  static void TearDownTestSuite() { fs::remove_all(*dir_); }

  static int Run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

  // Starts a health-serving gRPC server with `server_dir`'s `server` certificate, accepting
  // the certificates of `clients` there, and calls it with `client_dir`'s `client_name`
  // certificate, dialling the name `dial` (empty: the address); returns the call's status.
  static grpc::Status CallStatus(const fs::path& server_dir, const fs::path& client_dir,
                                 const std::string& client_name,
                                 const std::vector<std::string>& clients = {"gateway", "cli"},
                                 const std::string& server = "core", const std::string& dial = "") {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    // A server needs at least one service of its own besides health to start.
    holomush::core::v1::Control::CallbackService control;
    builder.RegisterService(&control);
    int port = 0;
    builder.AddListeningPort(
        "127.0.0.1:0", MutualTlsServerCredentials(server_dir.string(), server, clients), &port);
    auto running = builder.BuildAndStart();
    grpc::ChannelArguments args;
    if (!dial.empty()) args.SetSslTargetNameOverride(dial);
    auto channel = grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(port),
        MutualTlsClientCredentials(client_dir.string(), client_name), args);
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckResponse res;
    auto status = stub->Check(&ctx, {}, &res);
    running->Shutdown();
    return status;
  }
  static grpc::StatusCode Call(const fs::path& server_dir, const fs::path& client_dir,
                               const std::string& client_name) {
    return CallStatus(server_dir, client_dir, client_name).error_code();
  }

  static fs::path* dir_;
  static fs::path* other_;
};

fs::path* CertsTest::dir_ = nullptr;
fs::path* CertsTest::other_ = nullptr;

TEST_F(CertsTest, OpenSslVerifiesEveryLeafAgainstTheCa) {
  for (const char* leaf : {"core", "gateway", "cli"}) {
    EXPECT_EQ(Run("openssl verify -CAfile " + (*dir_ / "ca.crt").string() + " " +
                  (*dir_ / (std::string(leaf) + ".crt")).string()),
              0)
        << leaf;
  }
  EXPECT_NE(Run("openssl verify -CAfile " + (*other_ / "ca.crt").string() + " " +
                (*dir_ / "core.crt").string()),
            0);
}

TEST_F(CertsTest, KeysArePrivateAndEcdsaP256) {
  for (const char* key : {"ca.key", "core.key", "gateway.key", "cli.key"}) {
    struct stat st {};
    ASSERT_EQ(stat((*dir_ / key).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  EXPECT_EQ(Run("openssl ec -in " + (*dir_ / "core.key").string() +
                " -noout -text | grep -q 'NIST CURVE: P-256'"),
            0);
}

TEST_F(CertsTest, ExtraSansAppearOnServerCertificates) {
  EXPECT_EQ(Run("openssl x509 -in " + (*dir_ / "core.crt").string() +
                " -noout -ext subjectAltName | grep -q 'DNS:core.example, IP Address:10.1.2.3'"),
            0);
}

TEST_F(CertsTest, NotAfterIsReadable) {
  auto not_after = CertificateNotAfter(ReadFileOrThrow((*dir_ / "core.crt").string()));
  ASSERT_TRUE(not_after);
  EXPECT_GT(*not_after, std::time(nullptr) + 364 * 86400);
}

TEST_F(CertsTest, MutualTlsAcceptsOurCliAndGatewayCertificates) {
  EXPECT_EQ(Call(*dir_, *dir_, "cli"), grpc::StatusCode::OK);
  EXPECT_EQ(Call(*dir_, *dir_, "gateway"), grpc::StatusCode::OK);
}

// The CA is not enough: core's own key, or the gateway's where only the CLI may call, is
// turned away with a message that names the certificate.
TEST_F(CertsTest, MutualTlsLetsInOnlyTheCertificatesTheServerAccepts) {
  const grpc::Status own = CallStatus(*dir_, *dir_, "core");
  EXPECT_EQ(own.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(own.error_message().find("CN=holomush-core' may not call core"), std::string::npos)
      << own.error_message();
  EXPECT_EQ(CallStatus(*dir_, *dir_, "gateway", {"cli"}).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(CallStatus(*dir_, *dir_, "cli", {"cli"}).error_code(), grpc::StatusCode::OK);
  EXPECT_THROW(MutualTlsServerCredentials(dir_->string(), "core", {"nobody"}), std::runtime_error);
}

// Core and gateway have names of their own: a client dialling core's name refuses the
// gateway's certificate, though the same CA signed both.
TEST_F(CertsTest, MutualTlsClientDiallingCoreRefusesTheGatewaysCertificate) {
  const fs::path split = *dir_ / "split";
  WriteCertificateSet(GenerateCertificateSet({.leaf_sans = {{"core", {"core.example"}},
                                                            {"gateway", {"gateway.example"}}}}),
                      split.string());
  EXPECT_EQ(CallStatus(split, split, "cli", {"cli"}, "core", "core.example").error_code(),
            grpc::StatusCode::OK);
  EXPECT_EQ(CallStatus(split, split, "cli", {"cli"}, "gateway", "core.example").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CallStatus(split, split, "cli", {"cli"}, "gateway", "gateway.example").error_code(),
            grpc::StatusCode::OK);
  EXPECT_EQ(Run("openssl x509 -in " + (split / "core.crt").string() +
                " -noout -ext subjectAltName | grep -q core.example"),
            0);
  EXPECT_NE(Run("openssl x509 -in " + (split / "core.crt").string() +
                " -noout -ext subjectAltName | grep -q gateway.example"),
            0);
}

TEST_F(CertsTest, MutualTlsRejectsACertificateFromAnotherCa) {
  EXPECT_EQ(Call(*dir_, *other_, "cli"), grpc::StatusCode::UNAVAILABLE);
}

// A renewal under the same CA: a Pod still on the old leaves and one on the new ones talk.
TEST_F(CertsTest, LeavesRenewedUnderTheSameCaTalkToTheOldOnes) {
  const KeyPair ca{ReadFileOrThrow((*dir_ / "ca.crt").string()),
                   ReadFileOrThrow((*dir_ / "ca.key").string())};
  const fs::path renewed = *dir_ / "renewed";
  const CertificateSet set = GenerateLeaves({}, ca);
  EXPECT_EQ(set.ca.certificate_pem, ca.certificate_pem);
  WriteCertificateSet(set, renewed.string());
  EXPECT_NE(ReadFileOrThrow((renewed / "gateway.crt").string()),
            ReadFileOrThrow((*dir_ / "gateway.crt").string()));
  EXPECT_TRUE(SignedBy(set.leaves.at("gateway").certificate_pem, ca.certificate_pem));
  EXPECT_EQ(Call(*dir_, renewed, "gateway"), grpc::StatusCode::OK);
  EXPECT_EQ(Call(renewed, *dir_, "gateway"), grpc::StatusCode::OK);
}

// A CA rotation: with both CAs in ca.crt, leaves of either CA are accepted both ways.
TEST_F(CertsTest, ABundleOfTwoCasLetsLeavesOfEitherIn) {
  const std::string bundle =
      ReadFileOrThrow((*dir_ / "ca.crt").string()) + ReadFileOrThrow((*other_ / "ca.crt").string());
  ASSERT_EQ(SplitPemCertificates(bundle).size(), 2u);
  auto with_bundle = [&](const fs::path& from, const std::string& name) {
    const fs::path to = *dir_ / name;
    fs::create_directories(to);
    for (const char* f : {"core.crt", "core.key", "gateway.crt", "gateway.key", "cli.crt"}) {
      fs::copy_file(from / f, to / f, fs::copy_options::overwrite_existing);
    }
    std::ofstream(to / "ca.crt") << bundle;
    return to;
  };
  const fs::path a = with_bundle(*dir_, "bundle-a");
  const fs::path b = with_bundle(*other_, "bundle-b");
  EXPECT_EQ(Call(a, b, "gateway"), grpc::StatusCode::OK);
  EXPECT_EQ(Call(b, a, "gateway"), grpc::StatusCode::OK);
  EXPECT_FALSE(
      SignedBy(ReadFileOrThrow((b / "core.crt").string()), SplitPemCertificates(bundle)[0]));
}

}  // namespace
}  // namespace holomush::common
