#include "operator_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace holomush::testing {
namespace {

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

OperatorProcess::OperatorProcess(std::vector<std::string> args) {
  static int counter = 0;
  port_ = FreeLoopbackPort();
  log_path_ = "/tmp/holomush-operator-test-" + std::to_string(getpid()) + "-" +
              std::to_string(++counter) + ".log";
  args.insert(args.begin(), HOLOMUSH_OPERATOR_BINARY);
  args.push_back("--ops-addr=127.0.0.1:" + std::to_string(port_));
  args.push_back("--log-format=text");
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
}

OperatorProcess::~OperatorProcess() { Kill(); }

bool OperatorProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

void OperatorProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int OperatorProcess::Stop(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling the child's exit
  }
  return -1;
}

std::string OperatorProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::pair<int, std::string> OperatorProcess::Get(const std::string& path) const {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return {0, ""};
  }
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (send(fd, req.data(), req.size(), 0) < 0) {
    close(fd);
    return {0, ""};
  }
  std::string resp;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  if (resp.size() < 12) return {0, ""};
  const int code = std::atoi(resp.substr(9, 3).c_str());
  const auto body = resp.find("\r\n\r\n");
  return {code, body == std::string::npos ? "" : resp.substr(body + 4)};
}

namespace {

// The samples of `name` in an exposition: how many there are, and the sum and count of those
// whose labels include every pair in `labels`.
struct Samples {
  int of_name = 0;
  int matched = 0;
  double sum = 0;
};

Samples Scan(const std::string& body, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  Samples out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') {
      continue;
    }
    ++out.of_name;
    bool match = true;
    for (const auto& [k, v] : labels) {
      if (line.find(k + "=\"" + v + "\"") == std::string::npos) match = false;
    }
    if (!match) continue;
    ++out.matched;
    out.sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}

}  // namespace

double OperatorProcess::Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) const {
  auto [code, body] = Get("/metrics");
  if (code != 200) return -1;
  const Samples s = Scan(body, name, labels);
  return s.matched > 0 ? s.sum : -1;
}

double OperatorProcess::Count(const std::string& name,
                              const std::map<std::string, std::string>& labels) const {
  auto [code, body] = Get("/metrics");
  if (code != 200) return -1;
  const Samples s = Scan(body, name, labels);
  return s.of_name > 0 ? s.sum : -1;
}

double OperatorProcess::Writes() const {
  auto [code, body] = Get("/metrics");
  if (code != 200) return -1;
  const std::string name = "holomush_operator_api_requests_total";
  if (Scan(body, name, {}).of_name == 0) return -1;  // not counting at all
  double total = 0;
  for (const char* verb : {"patch", "create", "delete"})
    total += Scan(body, name, {{"verb", verb}}).sum;
  return total;
}

}  // namespace holomush::testing
