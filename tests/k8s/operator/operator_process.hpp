// holomush-operator as a child process of a k8s test, and what it reports on its ops port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace holomush::testing {

// The real binary, started with `args` (plus --ops-addr on a free loopback port); its
// output goes to a log file the test prints on failure. The destructor SIGKILLs it.
class OperatorProcess {
 public:
  explicit OperatorProcess(std::vector<std::string> args);
  ~OperatorProcess();
  OperatorProcess(const OperatorProcess&) = delete;
  OperatorProcess& operator=(const OperatorProcess&) = delete;

  // SIGTERM and wait for exit; returns the exit code (or -1 on timeout).
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void Kill();
  // False once the process has exited (it is reaped then: ExitCode() says how).
  bool Running();
  // The exit code of a process Running() found gone (128 + signal when killed), else -1.
  int ExitCode() const { return exit_code_; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string Log() const;

  // GET on the ops port: status code (0 when unreachable) and body.
  std::pair<int, std::string> Get(const std::string& path) const;
  // Sum of the samples of `name` whose labels include every pair in `labels`; -1 when no
  // sample matches (absent is not 0) or the scrape failed.
  double Metric(const std::string& name,
                const std::map<std::string, std::string>& labels = {}) const;
  // The same sum, 0 when no sample matches (a count of what has not happened), but -1 when
  // `name` has no sample at all (nothing is being counted) or the scrape failed.
  double Count(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const;
  // patch + create + delete requests: every write but the Lease's update (as Count).
  double Writes() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  int port_ = 0;
  std::string log_path_;
};

}  // namespace holomush::testing
