#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>

extern char** environ;

namespace holomush::backup {
namespace {

namespace fs = std::filesystem;
using common::ErrorKind;
using common::MakeError;

volatile sig_atomic_t g_stop = 0;

void OnStopSignal(int /*sig*/) { g_stop = 1; }

// Closes a descriptor once, whichever path leaves first.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

sigset_t StopAndChildSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// The environment for execve, built before fork because the child may only make
// async-signal-safe calls.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::set<std::string> overridden;
  for (const auto& kv : extra) overridden.insert(kv.substr(0, kv.find('=')));
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string kv(*e);
    if (overridden.count(kv.substr(0, kv.find('='))) == 0) env.push_back(std::move(kv));
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void Append(std::string& to, const char* data, size_t n, bool keep_tail) {
  to.append(data, n);
  if (to.size() > kMaxCapture) {
    if (keep_tail) {
      to.erase(0, to.size() - kMaxCapture);
    } else {
      to.resize(kMaxCapture);
    }
  }
}

// Reads what is there now; returns false at end of file.
bool Drain(int fd, std::string& to, bool keep_tail) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      Append(to, buf, static_cast<size_t>(n), keep_tail);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

bool IsExecutable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<std::string> OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    fs::path candidate = fs::path(dir) / name;
    if (IsExecutable(candidate)) return fs::absolute(candidate).string();
    start = end + 1;
  }
  return std::nullopt;
}

// /usr/lib/postgresql/<v>/bin/<name>: the oldest v at least `at_least` (a client dumps
// servers up to its own version), or with at_least 0 the newest there is.
std::optional<std::string> InPostgresVersions(const std::string& name, int at_least) {
  std::optional<int> chosen;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string v = entry.path().filename().string();
    if (v.empty() || v.size() > 4 || !std::all_of(v.begin(), v.end(), ::isdigit)) continue;
    if (!IsExecutable(entry.path() / "bin" / name)) continue;
    const int version = std::stoi(v);
    if (at_least > 0 ? version >= at_least && (!chosen || version < *chosen)
                     : !chosen || version > *chosen) {
      chosen = version;
    }
  }
  if (!chosen) return std::nullopt;
  return "/usr/lib/postgresql/" + std::to_string(*chosen) + "/bin/" + name;
}

}  // namespace

std::string ProcessResult::Describe() const {
  if (stopped) return "stopped by SIGTERM";
  if (signal != 0) {
    return "killed by signal " + std::to_string(signal) + " (" + ::strsignal(signal) + ")";
  }
  return "exited with code " + std::to_string(exit_code);
}

std::string ProcessResult::ErrorTail() const {
  std::string text = err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  // Three lines say what went wrong; more would bury it.
  size_t pos = text.size();
  for (int lines = 0; lines < 3 && pos != std::string::npos && pos > 0; ++lines) {
    pos = text.rfind('\n', pos - 1);
  }
  if (pos != std::string::npos && pos < text.size()) text.erase(0, pos + 1);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

void InstallStopHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

bool StopRequested() { return g_stop != 0; }

common::Result<std::string> FindTool(const std::string& name, const std::string& override_path,
                                     int server_major) {
  if (!override_path.empty()) {
    if (override_path.find('/') != std::string::npos) {
      if (IsExecutable(override_path)) return fs::absolute(override_path).string();
      return MakeError(ErrorKind::kInvalid, override_path + " is not an executable file");
    }
    if (auto found = OnPath(override_path)) return *found;
    return MakeError(ErrorKind::kInvalid, override_path + " not found on PATH");
  }
  if (server_major > 0) {
    if (auto found = InPostgresVersions(name, server_major)) return *found;
  }
  if (auto found = OnPath(name)) return *found;
  if (auto found = InPostgresVersions(name, 0)) return *found;
  return MakeError(ErrorKind::kNotFound,
                   name +
                       " not found on PATH nor in /usr/lib/postgresql/<version>/bin; install "
                       "the PostgreSQL client (same major version as the server or newer)");
}

common::Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& extra_env) {
  std::vector<std::string> env_strings = ChildEnvironment(extra_env);
  std::vector<std::string> arg_strings = argv;
  std::vector<char*> args;
  args.reserve(arg_strings.size() + 1);
  for (auto& a : arg_strings) args.push_back(a.data());
  args.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  int exec_pipe[2];  // carries errno when execve fails; closed by a successful exec
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  Fd out_read(out_pipe[0]);
  Fd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  Fd err_read(err_pipe[0]);
  Fd err_write(err_pipe[1]);
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    return MakeError(ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  Fd exec_read(exec_pipe[0]);
  Fd exec_write(exec_pipe[1]);
  Fd dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));

  // Signals stay blocked while the child runs and are read from a signalfd instead, so a
  // SIGTERM can neither be lost between checks nor interrupt the bookkeeping.
  const sigset_t watched = StopAndChildSignals();
  sigset_t previous;
  ::pthread_sigmask(SIG_BLOCK, &watched, &previous);
  Fd sig_fd(::signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK));
  if (sig_fd.get() < 0) {
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return MakeError(ErrorKind::kInternal, std::string("signalfd: ") + std::strerror(errno));
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // A backup tool must not outlive the command that owns its output file.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    ::dup2(dev_null.get(), 0);
    ::dup2(out_write.get(), 1);
    ::dup2(err_write.get(), 2);
    ::execve(args[0], args.data(), envp.data());
    int e = errno;
    [[maybe_unused]] ssize_t w = ::write(exec_write.get(), &e, sizeof e);
    _exit(127);
  }
  if (pid < 0) {
    int e = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return MakeError(ErrorKind::kInternal, std::string("fork: ") + std::strerror(e));
  }
  out_write.Close();
  err_write.Close();
  exec_write.Close();

  ProcessResult result;
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_read.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);

  ::fcntl(out_read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
  bool out_open = true;
  bool err_open = true;
  bool reaped = false;
  bool lost = false;
  int status = 0;
  while (!reaped) {
    pollfd fds[3] = {{sig_fd.get(), POLLIN, 0},
                     {out_open ? out_read.get() : -1, POLLIN, 0},
                     {err_open ? err_read.get() : -1, POLLIN, 0}};
    // The timeout only guards against a lost SIGCHLD; every wake-up re-checks the child.
    int n = ::poll(fds, 3, 1000);
    if (n < 0 && errno != EINTR) break;
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info;
      while (::read(sig_fd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo != SIGCHLD && !result.stopped) {
          g_stop = 1;
          result.stopped = true;
          ::kill(pid, SIGTERM);
        }
      }
    }
    if (out_open && (fds[1].revents & (POLLIN | POLLHUP)) != 0) {
      out_open = Drain(out_read.get(), result.out, false);
    }
    if (err_open && (fds[2].revents & (POLLIN | POLLHUP)) != 0) {
      err_open = Drain(err_read.get(), result.err, true);
    }
    pid_t r;
    do {
      r = ::waitpid(pid, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == pid) reaped = true;
    if (r < 0 && errno == ECHILD) {
      lost = true;  // reaped elsewhere (SIGCHLD ignored): its status is unknown
      break;
    }
  }
  // What the child wrote before it ended; a grandchild holding the pipe open is not waited for.
  if (out_open) Drain(out_read.get(), result.out, false);
  if (err_open) Drain(err_read.get(), result.err, true);
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    return MakeError(ErrorKind::kInternal,
                     "cannot run " + argv[0] + ": " + std::strerror(exec_errno));
  }
  if (lost) {
    return MakeError(ErrorKind::kInternal, "lost track of " + argv[0] + " (SIGCHLD ignored?)");
  }
  if (!reaped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.signal = SIGKILL;
    return result;
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

}  // namespace holomush::backup
