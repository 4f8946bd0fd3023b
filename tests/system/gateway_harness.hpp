// Real `holomush gateway` processes and telnet players for the system tests.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/net.hpp"
#include "support/process.hpp"

namespace holomush::testing {

// `holomush gateway` on loopback port 0 (telnet, web, control, ops) against `core_address`.
class GatewayProcess {
 public:
  explicit GatewayProcess(std::string core_address, std::vector<std::string> extra_args = {});
  // Starts (again); learns the ports from the log. False (see Output()) on failure.
  bool Start();
  // Listens for the web on this port from the next Start() on (a restart keeps the address
  // a browser has open).
  void FixWebPort(int port) { fixed_web_port_ = port; }
  void Signal(int signal) { process_->Signal(signal); }
  std::optional<int> Wait(std::chrono::milliseconds timeout) { return process_->Wait(timeout); }
  ChildProcess& process() { return *process_; }

  int telnet_port() const { return telnet_port_; }
  int web_port() const { return web_port_; }
  int control_port() const { return control_port_; }
  int ops_port() const { return ops_port_; }
  std::string control_address() const { return "127.0.0.1:" + std::to_string(control_port_); }

  int Readiness();
  bool WaitReadiness(int status, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // A series exactly as exposed (`name{labels}`), or nullopt.
  std::optional<double> Metric(const std::string& series);
  // Resident memory of the process in KiB (from /proc).
  long RssKiB();

 private:
  std::string core_address_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<ChildProcess> process_;
  int telnet_port_ = 0;
  int web_port_ = 0;
  int control_port_ = 0;
  int ops_port_ = 0;
  int fixed_web_port_ = 0;
};

// A telnet player: reads with deadlines, negotiation bytes stripped from what tests look at.
class TelnetPlayer {
 public:
  explicit TelnetPlayer(int port);
  bool connected() const { return client_.connected(); }
  // Waits for the banner (the end of the pre-login help).
  bool Greeted(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Send(const std::string& line) { client_.Send(line + "\r\n"); }
  void SendRaw(const std::string& bytes) { client_.Send(bytes); }
  // Text up to and including `needle` (IAC sequences removed), or nullopt on timeout/close.
  std::optional<std::string> Expect(const std::string& needle,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(15));
  // Reads and discards whatever arrives within `wait` (a player who reads but does not care).
  void Drain(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // `create`/`connect`, then `look` until the location shows.
  bool Enter(const std::string& verb, const std::string& user, const std::string& password);
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    return client_.WaitClosed(timeout);
  }
  void Close() { client_.Close(); }
  // Received text not consumed by Expect yet.
  std::string Pending() const { return text_; }
  TcpClient& client() { return client_; }

  // Removes telnet commands (IAC ...) from received bytes.
  static std::string Strip(const std::string& raw);

 private:
  // Appends `raw` to text_ without telnet commands; the state carries across reads.
  void Feed(const char* raw, size_t n);

  TcpClient client_;
  std::string text_;  // stripped text received and not yet consumed
  int strip_state_ = 0;
};

// Writes a fresh certificate set (for tests that need their own CA).
std::string FreshCertsDir(const std::string& name);

}  // namespace holomush::testing
