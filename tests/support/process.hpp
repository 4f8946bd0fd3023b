// A child process for tests: real binaries, stdout captured line by line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace holomush::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`, plus `env` added to this process's environment.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~ChildProcess();  // SIGKILLs if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Exit code, or 128+signal; nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool Running();
  // Waits for a stdout/stderr line containing `needle`; returns it, or nullopt on timeout
  // or once the process has closed its output without printing it.
  std::optional<std::string> WaitForLine(
      const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  std::vector<std::string> Lines();
  std::string Output();

 private:
  void Reader(int fd);
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::optional<int> status_;
  bool reader_done_ = false;
};

}  // namespace holomush::testing
