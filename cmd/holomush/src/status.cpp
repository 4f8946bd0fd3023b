// `holomush status`: health, version, uptime and sessions of core and gateway, as a table
// or JSON. Exit 0 only when both are SERVING, 1 otherwise, 2 on usage errors.
#include "status.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "holomush/common/config.hpp"
#include "holomush/common/service.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/core/v1/core.grpc.pb.h"
#include "settings_flags.hpp"
#include "subcommands.hpp"

namespace holomush::cli {
namespace {

namespace health_v1 = ::grpc::health::v1;
namespace v1 = ::holomush::core::v1;
using Clock = std::chrono::steady_clock;

// A plain TCP connect first, so "nothing listens there" and "it answered but TLS failed"
// get different messages. Empty when connected.
std::string TcpReachable(const common::HostPort& hp, std::chrono::milliseconds timeout,
                         bool& timed_out) {
  timed_out = false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(hp.port);
  if (int rc = ::getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return std::string("cannot resolve ") + hp.host + ": " + ::gai_strerror(rc);
  }
  std::string error = "no address for " + hp.host;
  const auto deadline = Clock::now() + timeout;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (rc == 0) {
        ::close(fd);
        timed_out = true;
        error = "no answer within " + std::to_string(timeout.count()) + "ms";
        continue;
      }
      int so_error = 0;
      socklen_t len = sizeof so_error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      rc = so_error == 0 ? 0 : -1;
      errno = so_error;
    }
    if (rc == 0) {
      ::close(fd);
      ::freeaddrinfo(found);
      return {};
    }
    error = std::strerror(errno);
    for (auto& c : error) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return error;
}

}  // namespace

std::string FormatUptime(int64_t s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400),
                  static_cast<long long>(s % 86400 / 3600));
  }
  return buf;
}

ComponentStatus ProbeComponent(const std::string& component, const std::string& address,
                               const std::string& tls_dir, const std::string& tls_name,
                               std::chrono::milliseconds timeout) {
  ComponentStatus out{.component = component, .address = address};
  const auto hp = common::ParseHostPort(address);
  if (!hp) {
    out.health = "ERROR";
    out.error = "not a host:port address: " + address;
    return out;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  try {
    credentials = common::MutualTlsClientCredentials(tls_dir, tls_name);
  } catch (const std::exception& e) {
    out.health = "TLS_FAILURE";
    out.error = std::string(e.what()) +
                " (set --tls-dir to the directory `holomush certs init` "
                "wrote)";
    return out;
  }
  bool timed_out = false;
  if (std::string why = TcpReachable(*hp, timeout, timed_out); !why.empty()) {
    out.health = timed_out ? "TIMEOUT" : "UNREACHABLE";
    out.error = timed_out ? "timed out connecting to " + address + ": " + why
                          : "cannot connect to " + address + ": " + why + " (is the " + component +
                                " running?)";
    return out;
  }
  auto channel = grpc::CreateChannel(address, credentials);
  const auto deadline = std::chrono::system_clock::now() + timeout;
  grpc::ClientContext health_context;
  health_context.set_deadline(deadline);
  health_v1::HealthCheckResponse response;
  const grpc::Status status = health_v1::Health::NewStub(channel)->Check(
      &health_context, health_v1::HealthCheckRequest{}, &response);
  if (!status.ok()) {
    switch (status.error_code()) {
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        out.health = "TIMEOUT";
        out.error =
            "no gRPC answer from " + address + " within " + std::to_string(timeout.count()) + "ms";
        break;
      case grpc::StatusCode::UNAVAILABLE:
        if (status.error_message().find("Failed to connect to remote host") != std::string::npos) {
          // It went away between our TCP probe and the gRPC connection.
          out.health = "UNREACHABLE";
          out.error = "cannot connect to " + address + " (is the " + component +
                      " running?): " + status.error_message();
          break;
        }
        // TCP connected a moment ago, so this is the handshake: wrong CA, a certificate not
        // valid for this address, or something that is not a HoloMUSH gRPC port.
        out.health = "TLS_FAILURE";
        out.error = "TLS handshake with " + address +
                    " failed (check --tls-dir and that both sides use certificates from the "
                    "same CA): " +
                    status.error_message();
        break;
      default:
        out.health = "ERROR";
        out.error = "health check failed: " + status.error_message();
    }
    return out;
  }
  out.health = health_v1::HealthCheckResponse::ServingStatus_Name(response.status());
  grpc::ClientContext info_context;
  info_context.set_deadline(deadline);
  v1::GetInfoReply info;
  const grpc::Status info_status =
      v1::Control::NewStub(channel)->GetInfo(&info_context, v1::GetInfoRequest{}, &info);
  if (info_status.ok()) {
    out.version = info.version();
    out.uptime_seconds = info.uptime_seconds();
    out.sessions = info.sessions();
  } else {
    out.error = "Control.GetInfo failed: " + info_status.error_message();
  }
  return out;
}

namespace {

std::vector<common::SettingSpec> StatusSettings() {
  using common::SettingKind;
  std::vector<common::SettingSpec> settings = {
      {.name = "core-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9000",
       .help = "core's gRPC address"},
      {.name = "gateway-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9002",
       .help = "the gateway's gRPC control address"},
      {.name = "tls-dir",
       .kind = SettingKind::kString,
       .default_value = common::DefaultTlsDir(),
       .help = "directory holding ca.crt and cli.crt/.key"},
      {.name = "timeout",
       .kind = SettingKind::kDuration,
       .default_value = "5s",
       .help = "how long to wait for each process"},
  };
  for (auto& spec : common::CommonSettings()) {
    if (spec.name == "log-format" || spec.name == "log-level") settings.push_back(spec);
  }
  return settings;
}

std::string OrDash(const std::optional<std::string>& s) { return s ? *s : "-"; }
std::string OrDash(const std::optional<int64_t>& n) { return n ? std::to_string(*n) : "-"; }

void PrintTable(const std::vector<ComponentStatus>& rows, std::ostream& out) {
  const std::vector<std::string> header = {"COMPONENT", "ADDRESS", "HEALTH",
                                           "VERSION",   "UPTIME",  "SESSIONS"};
  std::vector<std::vector<std::string>> cells = {header};
  for (const auto& r : rows) {
    cells.push_back({r.component, r.address, r.health, OrDash(r.version),
                     r.uptime_seconds ? FormatUptime(*r.uptime_seconds) : "-", OrDash(r.sessions)});
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  for (const auto& r : rows) {
    if (!r.error.empty()) out << r.component << ": " << r.error << "\n";
  }
}

nlohmann::json ToJson(const std::vector<ComponentStatus>& rows, bool ok) {
  nlohmann::json components = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"component", r.component}, {"address", r.address}, {"health", r.health}};
    j["version"] = r.version ? nlohmann::json(*r.version) : nlohmann::json(nullptr);
    j["uptime_seconds"] =
        r.uptime_seconds ? nlohmann::json(*r.uptime_seconds) : nlohmann::json(nullptr);
    j["sessions"] = r.sessions ? nlohmann::json(*r.sessions) : nlohmann::json(nullptr);
    j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
    components.push_back(j);
  }
  return {{"ok", ok}, {"components", components}};
}

class Status : public Subcommand {
 public:
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand("status", "health, version, uptime and sessions of core and gateway");
    flags_.Register(app_);
    app_->add_flag("--json", json_, "print JSON instead of a table");
  }
  bool Parsed() const override { return app_ != nullptr && app_->parsed(); }
  int Run() override {
    // A bad address or duration throws ConfigError: the CLI prints it and exits 2.
    const auto config = flags_.Load();
    common::ConfigureLoggingFrom(config);
    // gRPC would log each failed handshake on stderr; the table already says it, once.
    gpr_set_log_function([](gpr_log_func_args*) {});
    const auto timeout = config.Duration("timeout");
    const std::string tls_dir = config.String("tls-dir");
    auto core = std::async(std::launch::async, [&] {
      return ProbeComponent("core", config.Address("core-addr").ToString(), tls_dir, "cli",
                            timeout);
    });
    auto gateway = std::async(std::launch::async, [&] {
      return ProbeComponent("gateway", config.Address("gateway-addr").ToString(), tls_dir, "cli",
                            timeout);
    });
    const std::vector<ComponentStatus> rows = {core.get(), gateway.get()};
    const bool ok = rows[0].serving() && rows[1].serving();
    if (json_) {
      std::cout << ToJson(rows, ok).dump(2) << "\n";
    } else {
      PrintTable(rows, std::cout);
    }
    return ok ? 0 : 1;
  }

 private:
  SettingsFlags flags_{StatusSettings()};
  CLI::App* app_ = nullptr;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Subcommand> MakeStatus() { return std::make_unique<Status>(); }

}  // namespace holomush::cli
