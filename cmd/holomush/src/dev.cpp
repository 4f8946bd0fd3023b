// `holomush dev`: the whole game on one machine. A private PostgreSQL cluster in a data
// directory kept between runs, certificates, then core and gateway as children of this
// binary; Ctrl-C stops the gateway, core, then PostgreSQL.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "holomush/common/certs.hpp"
#include "holomush/common/config.hpp"
#include "holomush/common/local_postgres.hpp"
#include "holomush/common/shutdown.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/core/admin.hpp"
#include "settings_flags.hpp"
#include "status.hpp"
#include "subcommands.hpp"

namespace holomush::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// As root, PostgreSQL runs as `postgres`, which cannot enter root's home: root's dev world
// lives in /var/lib, where every user can reach it.
std::string DefaultDataDir() {
  if (::geteuid() == 0) return "/var/lib/holomush/dev";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/holomush/dev";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/holomush/dev";
}

bool LoopbackPortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  // As PostgreSQL binds: connections of an earlier server still in TIME_WAIT do not make
  // the port busy, a listener does.
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot find a free port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// As root, PostgreSQL runs as `postgres`, which must be able to walk down to the cluster.
// Returns the first ancestor it cannot search, or "" when it can reach `dir`. Nothing is
// chmod-ed: a user's home keeps its permissions.
std::string UnreachableForPostgres(const fs::path& dir) {
  if (::geteuid() != 0) return "";
  for (fs::path p = fs::absolute(dir); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) return p.string();
    if (p == p.root_path()) break;
  }
  return "";
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "  " + l + "\n";
  return out;
}

// A child process of this binary (`holomush core ...`), in its own process group so the
// terminal's Ctrl-C reaches only us and we stop the children in order. Output appends to
// `log_path`.
class Child {
 public:
  Child(std::string name, const std::vector<std::string>& args,
        const std::map<std::string, std::string>& env, std::string log_path)
      : name_(std::move(name)), log_path_(std::move(log_path)) {
    const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot write " + log_path_);
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(log_fd);
      throw std::runtime_error("cannot start " + name_);
    }
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      // ShutdownSignal blocked these in the parent; the child handles its own.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      std::vector<char*> argv;
      std::vector<std::string> copy = args;
      for (auto& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
  }
  ~Child() { Stop(5s); }

  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }

  bool Alive() {
    if (exit_code_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }
  std::optional<int> exit_code() const { return exit_code_; }

  // SIGTERM, then SIGKILL if it has not exited after `grace`.
  void Stop(std::chrono::milliseconds grace) {
    if (!Alive()) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (Alive() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    if (Alive()) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      exit_code_ = 128 + SIGKILL;
    }
  }

 private:
  std::string name_;
  std::string log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

std::vector<common::SettingSpec> DevSettings() {
  using common::SettingKind;
  return {
      {.name = "data-dir",
       .kind = SettingKind::kString,
       .default_value = DefaultDataDir(),
       .help = "where the cluster, logs and admin password live (kept between runs)"},
      {.name = "tls-dir",
       .kind = SettingKind::kString,
       .default_value = common::DefaultTlsDir(),
       .help = "certificates, made here when missing (where `holomush status` looks)"},
      {.name = "telnet-addr",
       .kind = SettingKind::kAddress,
       .default_value = "0.0.0.0:4201",
       .help = "telnet listen address"},
      {.name = "web-addr",
       .kind = SettingKind::kAddress,
       .default_value = "0.0.0.0:8080",
       .help = "WebSocket listen address (path /ws)"},
      {.name = "core-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9000",
       .help = "core's gRPC listen address"},
      {.name = "control-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9002",
       .help = "the gateway's gRPC control address"},
      {.name = "core-ops-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9100",
       .help = "core's ops HTTP address"},
      {.name = "gateway-ops-addr",
       .kind = SettingKind::kAddress,
       .default_value = "127.0.0.1:9101",
       .help = "the gateway's ops HTTP address"},
      {.name = "pg-port",
       .kind = SettingKind::kInt,
       .default_value = "0",
       .help = "PostgreSQL port on 127.0.0.1 (0: 5432 when free, else any free port)",
       .min = 0,
       .max = 65535},
      {.name = "log-level",
       .kind = SettingKind::kChoice,
       .default_value = "info",
       .help = "log level of core and gateway",
       .choices = {"debug", "info", "warn", "error"}},
  };
}

// "0.0.0.0:4201" -> "localhost 4201": what a player types.
std::string TelnetHint(const common::HostPort& hp) {
  const bool any = hp.host.empty() || hp.host == "0.0.0.0" || hp.host == "::" ||
                   hp.host == "127.0.0.1" || hp.host == "localhost";
  return (any ? std::string("localhost") : hp.host) + " " + std::to_string(hp.port);
}

std::string WebHint(const common::HostPort& hp) {
  std::string hint = TelnetHint(hp);
  return "ws://" + hint.replace(hint.find(' '), 1, ":") + "/ws";
}

// Starts the cluster from a short-lived helper in a process group of its own, so the
// terminal's Ctrl-C (sent to our whole group) does not reach PostgreSQL: we stop it last.
void StartPostgresDetached(common::LocalPostgres& pg) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ::setpgid(0, 0);
    std::string error;
    try {
      pg.InitIfNeeded();
      pg.Start();
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) (void)!::write(fds[1], error.data(), error.size());
    ::_exit(error.empty() ? 0 : 1);
  }
  ::close(fds[1]);
  std::string error;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) error.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error(error.empty() ? "PostgreSQL did not start" : error);
  }
}

// The dev game's admin password: made once, kept (0600) beside the cluster.
std::string DevAdminPassword(const fs::path& file) {
  if (std::ifstream in(file); in) {
    std::string password;
    if (std::getline(in, password) && !password.empty()) return password;
  }
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  static const char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  std::string password;
  for (int i = 0; i < 16; ++i) {
    password += kAlphabet[static_cast<unsigned char>(urandom.get()) % (sizeof kAlphabet - 1)];
  }
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + file.string());
  const std::string line = password + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) throw std::runtime_error("cannot write " + file.string());
  return password;
}

std::string ProbeAddress(const common::HostPort& hp) {
  const bool any = hp.host.empty() || hp.host == "0.0.0.0" || hp.host == "::";
  return (any ? std::string("127.0.0.1") : hp.host) + ":" + std::to_string(hp.port);
}

constexpr int kPostgresPort = 5432;

// `psql -U holomush -h localhost holomush`, with `-p` when the port is not the default.
std::string PostgresLine(const std::string& tool, int port) {
  return tool + " -U holomush -h localhost" +
         (port == kPostgresPort ? "" : " -p " + std::to_string(port)) + " holomush";
}

// The `holomush status` line that reaches this game: plain when dev runs on status's defaults.
std::string StatusLine(const fs::path& certs, const common::HostPort& core_addr,
                       const common::HostPort& control_addr) {
  std::string line = "holomush status";
  if (certs != fs::absolute(common::DefaultTlsDir())) line += " --tls-dir " + certs.string();
  if (const auto core = ProbeAddress(core_addr); core != "127.0.0.1:9000") {
    line += " --core-addr " + core;
  }
  if (const auto control = ProbeAddress(control_addr); control != "127.0.0.1:9002") {
    line += " --gateway-addr " + control;
  }
  return line;
}

class Dev : public Subcommand {
 public:
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand("dev", "PostgreSQL, core and gateway on this machine; Ctrl-C stops");
    flags_.Register(app_);
  }
  bool Parsed() const override { return app_ != nullptr && app_->parsed(); }

  int Run() override {
    const auto config = flags_.Load();
    // Before any thread or child: SIGINT/SIGTERM become a wake-up we wait on.
    common::ShutdownSignal shutdown;
    return Serve(config, shutdown);
  }

 private:
  static void Say(const std::string& line) { std::cout << "holomush dev: " << line << std::endl; }

  // Dev's certificates live where `holomush status` looks by default: made when the directory
  // has no CA, reused when it holds a whole set, refused when it holds only part of one.
  static bool PrepareCertificates(const fs::path& dir) {
    if (!fs::exists(dir / "ca.crt")) {
      common::WriteCertificateSet(common::GenerateCertificateSet({}), dir.string());
      Say("wrote certificates to " + dir.string());
      return true;
    }
    for (const char* name : {"core", "gateway", "cli"}) {
      for (const char* ext : {".crt", ".key"}) {
        if (!fs::exists(dir / (std::string(name) + ext))) {
          Say(dir.string() + " has a CA but no " + name + ext +
              "; run `holomush certs init --dir " + dir.string() + "` or pass another --tls-dir");
          return false;
        }
      }
    }
    return true;
  }

  int Serve(const common::Config& config, common::ShutdownSignal& shutdown) {
    const fs::path data_dir = fs::absolute(config.String("data-dir"));
    const fs::path certs = fs::absolute(config.String("tls-dir"));
    const fs::path logs = data_dir / "logs";
    if (const std::string blocked = UnreachableForPostgres(data_dir); !blocked.empty()) {
      Say("PostgreSQL runs as the postgres user, which cannot enter " + blocked +
          " (no search permission for others); choose a --data-dir it can reach, such as " +
          "/var/lib/holomush/dev");
      return 1;
    }
    fs::create_directories(logs);
    if (!PrepareCertificates(certs)) return 1;

    // The guide's `pg_dump -h localhost` and `pg_isready -h localhost` mean port 5432: take it
    // when it is free.
    int pg_port = static_cast<int>(config.Int("pg-port"));
    if (pg_port == 0)
      pg_port = LoopbackPortFree(kPostgresPort) ? kPostgresPort : FreeLoopbackPort();
    common::LocalPostgres pg({.data_dir = (data_dir / "postgres").string(), .port = pg_port});
    Say("starting PostgreSQL on 127.0.0.1:" + std::to_string(pg_port) + " (data in " +
        pg.data_dir() + ")");
    StartPostgresDetached(pg);
    pg.CreateDatabaseIfMissing("holomush");

    const auto core_addr = config.Address("core-addr");
    const auto control_addr = config.Address("control-addr");
    const auto telnet_addr = config.Address("telnet-addr");
    const std::string level = config.String("log-level");
    const std::vector<std::string> common_flags = {"--tls-dir", certs.string(), "--log-format",
                                                   "text",      "--log-level",  level};

    std::vector<std::string> core_args = {
        "holomush",           "core",       "--grpc-addr",
        core_addr.ToString(), "--ops-addr", config.Address("core-ops-addr").ToString()};
    core_args.insert(core_args.end(), common_flags.begin(), common_flags.end());
    Say("starting core on " + core_addr.ToString() + " (log " + (logs / "core.log").string() + ")");
    auto core = std::make_unique<Child>(
        "core", core_args, std::map<std::string, std::string>{{"DATABASE_URL", pg.Url("holomush")}},
        (logs / "core.log").string());
    if (!WaitServing(*core, ProbeAddress(core_addr), certs.string(), 180s, shutdown)) {
      return Abandon(std::move(core), nullptr, pg, shutdown);
    }

    std::vector<std::string> gateway_args = {
        "holomush",       "gateway",
        "--core-addr",    ProbeAddress(core_addr),
        "--telnet-addr",  telnet_addr.ToString(),
        "--web-addr",     config.Address("web-addr").ToString(),
        "--control-addr", control_addr.ToString(),
        "--ops-addr",     config.Address("gateway-ops-addr").ToString()};
    gateway_args.insert(gateway_args.end(), common_flags.begin(), common_flags.end());
    Say("starting gateway (log " + (logs / "gateway.log").string() + ")");
    auto gateway =
        std::make_unique<Child>("gateway", gateway_args, std::map<std::string, std::string>{},
                                (logs / "gateway.log").string());
    if (!WaitServing(*gateway, ProbeAddress(control_addr), certs.string(), 60s, shutdown)) {
      return Abandon(std::move(core), std::move(gateway), pg, shutdown);
    }

    // Admins are made explicitly: dev makes one, `admin`, and says how to log in.
    const fs::path admin_file = data_dir / "admin-password";
    const std::string admin_password = DevAdminPassword(admin_file);
    std::ostringstream admin_out;
    std::ostringstream admin_err;
    if (core::RunAdminCreate(pg.Url("holomush"), {.username = "admin", .password = admin_password},
                             admin_out, admin_err) != 0) {
      Say("could not make the admin account: " + admin_err.str());
      return Abandon(std::move(core), std::move(gateway), pg, shutdown);
    }
    Say("admin account: `connect admin " + admin_password + "` (password kept in " +
        admin_file.string() + ")");

    std::cout << "HoloMUSH is ready: telnet " << TelnetHint(telnet_addr) << std::endl;
    Say("WebSocket at " + WebHint(config.Address("web-addr")) + "; Ctrl-C stops everything");
    Say("health: `" + StatusLine(certs, core_addr, control_addr) + "`");
    Say("database: `" + PostgresLine("psql", pg_port) + "`, `" + PostgresLine("pg_dump", pg_port) +
        " > backup.sql`");

    int exit_code = 0;
    while (shutdown.WaitFor(500ms) < 0) {
      for (Child* child : {core.get(), gateway.get()}) {
        if (!child->Alive()) {
          Say(child->name() + " exited (code " + std::to_string(child->exit_code().value_or(-1)) +
              "); its log ends:\n" + Tail(child->log_path(), 15));
          exit_code = 1;
        }
      }
      if (exit_code != 0) break;
    }
    Say("stopping the gateway, core, then PostgreSQL");
    gateway->Stop(20s);
    core->Stop(20s);
    pg.Stop("fast");
    Say("stopped; the world is kept in " + data_dir.string());
    return exit_code;
  }

  // Waits until `child` answers SERVING on `address`; false if it died, Ctrl-C came, or time
  // ran out (the reason is printed).
  static bool WaitServing(Child& child, const std::string& address, const std::string& certs,
                          std::chrono::seconds limit, common::ShutdownSignal& shutdown) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ComponentStatus last;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!child.Alive()) {
        Say(child.name() + " exited during start-up (code " +
            std::to_string(child.exit_code().value_or(-1)) + "); its log ends:\n" +
            Tail(child.log_path(), 15));
        return false;
      }
      last = ProbeComponent(child.name(), address, certs, "cli", 1s);
      if (last.serving()) return true;
      if (shutdown.WaitFor(250ms) >= 0) return false;
    }
    Say(child.name() + " was not ready after " + std::to_string(limit.count()) +
        "s: " + last.health + (last.error.empty() ? "" : " (" + last.error + ")") +
        "; its log ends:\n" + Tail(child.log_path(), 15));
    return false;
  }

  // Start-up did not finish: stop what runs. Exit 0 when the user asked (Ctrl-C).
  static int Abandon(std::unique_ptr<Child> core, std::unique_ptr<Child> gateway,
                     common::LocalPostgres& pg, common::ShutdownSignal& shutdown) {
    if (gateway) gateway->Stop(20s);
    if (core) core->Stop(20s);
    pg.Stop("fast");
    if (shutdown.Requested()) {
      Say("stopped");
      return 0;
    }
    return 1;
  }

  SettingsFlags flags_{DevSettings()};
  CLI::App* app_ = nullptr;
};

}  // namespace

std::unique_ptr<Subcommand> MakeDev() { return std::make_unique<Dev>(); }

}  // namespace holomush::cli
