#include "gateway_harness.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "holomush/common/certs.hpp"
#include "support/core_harness.hpp"
#include "support/wait.hpp"

namespace holomush::testing {

GatewayProcess::GatewayProcess(std::string core_address, std::vector<std::string> extra_args)
    : core_address_(std::move(core_address)), extra_args_(std::move(extra_args)) {}

bool GatewayProcess::Start() {
  std::vector<std::string> argv = {
      HOLOMUSH_BINARY,    "gateway",
      "--core-addr",      core_address_,
      "--telnet-addr",    "127.0.0.1:0",
      "--web-addr",       "127.0.0.1:" + std::to_string(fixed_web_port_),
      "--control-addr",   "127.0.0.1:0",
      "--ops-addr",       "127.0.0.1:0",
      "--tls-dir",        TestCertsDir(),
      "--shutdown-grace", "5s"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  process_.reset();
  process_ = std::make_unique<ChildProcess>(argv);
  auto listening = process_->WaitForLine("\"msg\":\"gateway listening\"", std::chrono::seconds(30));
  auto started = process_->WaitForLine("\"msg\":\"started\"", std::chrono::seconds(10));
  if (!listening || !started) return false;
  auto l = nlohmann::json::parse(*listening);
  telnet_port_ = l["telnet_port"].get<int>();
  web_port_ = l["web_port"].get<int>();
  control_port_ = l["control_port"].get<int>();
  const auto ops = nlohmann::json::parse(*started)["ops_addr"].get<std::string>();
  ops_port_ = std::stoi(ops.substr(ops.rfind(':') + 1));
  return true;
}

int GatewayProcess::Readiness() { return HttpGet(ops_port_, "/healthz/readiness").status; }

bool GatewayProcess::WaitReadiness(int status, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return Readiness() == status; }, timeout);
}

std::optional<double> GatewayProcess::Metric(const std::string& series) {
  return SeriesValue(HttpGet(ops_port_, "/metrics").body, series);
}

long GatewayProcess::RssKiB() {
  std::ifstream in("/proc/" + std::to_string(process_->pid()) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TelnetPlayer::TelnetPlayer(int port) : client_(port) {}

bool TelnetPlayer::Greeted(std::chrono::milliseconds timeout) {
  return Expect("quit                           leave\r\n", timeout).has_value();
}

namespace {

enum StripState { kData, kIac, kOpt, kSb, kSbIac };

// One byte through the IAC stripper; appends data bytes to `out`.
void StripByte(int& state, char ch, std::string& out) {
  const auto b = static_cast<unsigned char>(ch);
  switch (state) {
    case kData:
      if (b == 255) {
        state = kIac;
      } else {
        out.push_back(ch);
      }
      break;
    case kIac:
      if (b == 255) {
        out.push_back(ch);
        state = kData;
      } else if (b >= 251 && b <= 254) {
        state = kOpt;
      } else if (b == 250) {
        state = kSb;
      } else {
        state = kData;
      }
      break;
    case kOpt:
      state = kData;
      break;
    case kSb:
      if (b == 255) state = kSbIac;
      break;
    case kSbIac:
      state = b == 240 ? kData : kSb;
      break;
  }
}

}  // namespace

std::string TelnetPlayer::Strip(const std::string& raw) {
  std::string out;
  int state = kData;
  for (const char ch : raw) StripByte(state, ch, out);
  return out;
}

void TelnetPlayer::Feed(const char* raw, size_t n) {
  for (size_t i = 0; i < n; ++i) StripByte(strip_state_, raw[i], text_);
}

std::optional<std::string> TelnetPlayer::Expect(const std::string& needle,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t searched = 0;  // no match starts before this offset of text_
  while (true) {
    if (auto pos = text_.find(needle, searched); pos != std::string::npos) {
      std::string out = text_.substr(0, pos + needle.size());
      text_.erase(0, pos + needle.size());
      return out;
    }
    searched = text_.size() >= needle.size() ? text_.size() - needle.size() + 1 : 0;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || client_.fd() < 0) return std::nullopt;
    pollfd p{client_.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[65536];
    const ssize_t n = ::recv(client_.fd(), buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    Feed(buf, static_cast<size_t>(n));
  }
}

void TelnetPlayer::Drain(std::chrono::milliseconds wait) {
  text_.clear();
  char buf[65536];
  int timeout = static_cast<int>(wait.count());
  while (client_.fd() >= 0) {
    pollfd p{client_.fd(), POLLIN, 0};
    if (::poll(&p, 1, timeout) <= 0 || ::recv(client_.fd(), buf, sizeof buf, 0) <= 0) return;
    timeout = 0;
  }
}

bool TelnetPlayer::Enter(const std::string& verb, const std::string& user,
                         const std::string& password) {
  if (!Greeted()) return false;
  Send(verb + " " + user + " " + password);
  // A new session begins with a look at the room.
  return Expect("The Nexus").has_value();
}

std::string FreshCertsDir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("holomush-" + name + "-certs-" + std::to_string(::getpid()));
  common::WriteCertificateSet(common::GenerateCertificateSet({}), dir.string());
  return dir.string();
}

}  // namespace holomush::testing
