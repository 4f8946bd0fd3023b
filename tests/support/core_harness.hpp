// Real `holomush core` processes and a gRPC client that plays as a gateway would.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "holomush/core/v1/core.grpc.pb.h"
#include "support/process.hpp"

namespace holomush::testing {

namespace pb = ::holomush::core::v1;

// A certificate set in a temp directory, made once per test binary.
const std::string& TestCertsDir();

// `holomush core` on loopback port 0 against `database_url`.
class CoreProcess {
 public:
  explicit CoreProcess(std::string database_url, std::vector<std::string> extra_args = {},
                       std::map<std::string, std::string> env = {});
  // Starts (again); waits until the ports are known. Returns false with output on failure.
  bool Start();
  void Stop(int signal = 15);
  void Kill();
  int grpc_port() const { return grpc_port_; }
  int ops_port() const { return ops_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(grpc_port_); }
  ChildProcess& process() { return *process_; }
  // Waits for /healthz/readiness to answer `status`.
  bool WaitReady(int status = 200, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // The value of a metric line (`name{labels}` exactly as exposed), or nullopt.
  std::optional<double> Metric(const std::string& series);

 private:
  std::string database_url_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<ChildProcess> process_;
  int grpc_port_ = 0;
  int ops_port_ = 0;
  int fixed_grpc_port_ = 0;  // kept across restarts so clients reconnect to the same place
};

// `holomush admin create <args...>` against `database_url`, with `password` as
// HOLOMUSH_ADMIN_PASSWORD: the only way an admin is made. Returns the exit code.
int AdminCreate(const std::string& database_url, const std::vector<std::string>& args,
                const std::string& password, std::string* output = nullptr);

// A GatewayUp frame that opens (or resumes) `session` under `handle`, as a telnet player.
void AddOpenFrame(pb::GatewayUp& up, uint64_t handle, const pb::StartSessionReply& session,
                  const std::string& last_event_id);

// One player's view: the unary calls and a Gateway stream of its own carrying its one session
// (sync API, reader thread).
class PlayerClient {
 public:
  explicit PlayerClient(const std::string& address);
  ~PlayerClient();

  pb::LoginReply Create(const std::string& username, const std::string& password);
  pb::LoginReply Login(const std::string& username, const std::string& password);
  // Logs in (creating the account when asked) and opens a session for the first character.
  bool Enter(const std::string& username, const std::string& password, bool create);
  // Opens (or reopens) the stream for the current session, from `last_event_id`.
  bool Open(const std::string& last_event_id = "");
  void Send(const std::string& line);
  // Waits for a message whose text contains `needle`; returns its text.
  std::optional<std::string> WaitFor(const std::string& needle,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends `command` and returns the "Present: ..." line of the room description that answers
  // it ("no answer to <command>" when none came).
  std::string PresentAfter(const std::string& command);
  // Drops the stream as a broken connection would.
  void Drop();
  // Texts received so far (outputs and events), oldest first; clears them.
  std::vector<std::string> Take();
  std::string last_event_id();
  std::optional<std::string> closed_reason();
  const pb::StartSessionReply& session() const { return session_; }
  pb::Game::Stub& stub() { return *stub_; }

 private:
  void ReadLoop();
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Game::Stub> stub_;
  pb::StartSessionReply session_;
  std::unique_ptr<grpc::ClientContext> context_;
  static constexpr uint64_t kHandle = 1;
  std::unique_ptr<grpc::ClientReaderWriter<pb::GatewayUp, pb::GatewayDown>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> texts_;
  std::string last_event_id_;
  std::optional<std::string> closed_;
  bool opened_ = false;
};

}  // namespace holomush::testing
