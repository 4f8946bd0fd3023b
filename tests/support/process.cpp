#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "support/wait.hpp"

extern char** environ;

namespace holomush::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) std::abort();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    // Signals the test runner blocked must not stay blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(pipefd[1]);
  reader_ = std::thread([this, fd = pipefd[0]] { Reader(fd); });
}

ChildProcess::~ChildProcess() {
  if (Running()) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
}

void ChildProcess::Reader(int fd) {
  std::string partial;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    partial.append(buf, static_cast<size_t>(n));
    size_t pos;
    while ((pos = partial.find('\n')) != std::string::npos) {
      std::lock_guard lock(mu_);
      lines_.push_back(partial.substr(0, pos));
      partial.erase(0, pos + 1);
      cv_.notify_all();
    }
  }
  std::lock_guard lock(mu_);
  if (!partial.empty()) lines_.push_back(partial);
  reader_done_ = true;
  cv_.notify_all();
  ::close(fd);
}

void ChildProcess::Signal(int sig) { ::kill(pid_, sig); }

bool ChildProcess::Running() {
  if (status_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  WaitUntil([this] { return !Running(); }, timeout);
  if (status_) {
    // Everything it wrote is read before the caller looks at the output (unless a
    // grandchild still holds the pipe open).
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(5), [this] { return reader_done_; });
  }
  return status_;
}

std::optional<std::string> ChildProcess::WaitForLine(const std::string& needle,
                                                     std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<std::string> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) {
        found = l;
        return true;
      }
    }
    return reader_done_;  // the process closed its output: the line will never come
  });
  return found;
}

std::vector<std::string> ChildProcess::Lines() {
  std::lock_guard lock(mu_);
  return lines_;
}

std::string ChildProcess::Output() {
  std::string out;
  for (const auto& l : Lines()) out += l + "\n";
  return out;
}

}  // namespace holomush::testing
