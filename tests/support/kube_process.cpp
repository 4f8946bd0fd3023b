// Child processes and condition polling for the k8s test support.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "kube_env.hpp"

extern char** environ;

namespace holomush::testing {
namespace {

// Closes a descriptor once; -1 means already closed.
void CloseFd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

struct Pipe {
  int read_end = -1;
  int write_end = -1;

  bool Open() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
  ~Pipe() {
    CloseFd(read_end);
    CloseFd(write_end);
  }
};

// Appends what is readable on `fd` to `sink`; false once the writer has closed it.
bool Drain(int fd, std::string& sink) {
  std::array<char, 8192> buffer{};
  const ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n > 0) {
    sink.append(buffer.data(), static_cast<size_t>(n));
    return true;
  }
  return n < 0 && (errno == EINTR || errno == EAGAIN);
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv, std::string_view input) {
  CommandResult result;
  if (argv.empty()) {
    result.err = "RunCommand: empty argv";
    return result;
  }
  // A child that exits before reading all of `input` must fail the write, not kill
  // the test binary.
  std::signal(SIGPIPE, SIG_IGN);

  Pipe in;
  Pipe out;
  Pipe err;
  if (!in.Open() || !out.Open() || !err.Open()) {
    result.err = std::string("RunCommand: pipe: ") + std::strerror(errno);
    return result;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read_end, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out.write_end, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write_end, STDERR_FILENO);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  pid_t pid = -1;
  const int spawn_error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    result.exit_code = 127;
    result.err = "RunCommand: cannot start " + argv[0] + ": " + std::strerror(spawn_error);
    return result;
  }
  // Only the child may hold these ends, or we would never see end-of-file.
  CloseFd(in.read_end);
  CloseFd(out.write_end);
  CloseFd(err.write_end);

  size_t written = 0;
  if (input.empty()) {
    CloseFd(in.write_end);
  } else {
    ::fcntl(in.write_end, F_SETFL, O_NONBLOCK);
  }
  bool out_open = true;
  bool err_open = true;
  // One thread serves all three pipes, so a child that fills stderr while we write
  // its stdin cannot deadlock us.
  while (out_open || err_open || in.write_end >= 0) {
    std::array<pollfd, 3> fds{};
    fds[0] = {out_open ? out.read_end : -1, POLLIN, 0};
    fds[1] = {err_open ? err.read_end : -1, POLLIN, 0};
    fds[2] = {in.write_end, POLLOUT, 0};
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0) out_open = Drain(out.read_end, result.out);
    if (fds[1].revents != 0) err_open = Drain(err.read_end, result.err);
    if (fds[2].revents != 0) {
      const ssize_t n = ::write(in.write_end, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        CloseFd(in.write_end);
      }
    }
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      result.err += std::string("RunCommand: waitpid: ") + std::strerror(errno);
      return result;
    }
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = 128 + WTERMSIG(status);
  }
  return result;
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace holomush::testing
