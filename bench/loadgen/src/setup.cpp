#include "holomush/loadgen/setup.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <vector>

#include "holomush/loadgen/dialect.hpp"
#include "holomush/loadgen/telnet_lines.hpp"

namespace holomush::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

// One blocking telnet conversation, line by line.
class Conversation {
 public:
  Conversation(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) {
      throw std::runtime_error("cannot resolve " + host);
    }
    fd_ = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool ok = fd_ >= 0 && ::connect(fd_, res->ai_addr, res->ai_addrlen) == 0;
    freeaddrinfo(res);
    if (!ok) throw std::runtime_error("cannot connect to " + host + ":" + std::to_string(port));
  }
  ~Conversation() {
    if (fd_ >= 0) ::close(fd_);
  }

  void Send(const std::string& text) {
    size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("connection lost while sending");
      off += static_cast<size_t>(n);
    }
  }

  // Reads lines until `match` accepts one; false on timeout.
  bool WaitFor(const std::function<bool(const std::string&)>& match, double timeout_s) {
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    while (true) {
      while (next_ < lines_.size()) {
        const std::string& line = lines_[next_++];
        last_ = line;
        if (match(line)) return true;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[8192];
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("server closed the connection; last line: " + last_);
      reader_.Feed(std::string_view(buf, static_cast<size_t>(n)), lines_);
    }
  }
  const std::string& last() const { return last_; }

 private:
  int fd_ = -1;
  TelnetLineReader reader_;
  std::vector<std::string> lines_;
  size_t next_ = 0;
  std::string last_;
};

}  // namespace

void BuildWorld(const SetupConfig& config) {
  const Dialect dialect = Dialect::For(config.target);
  Conversation c(config.host, config.port);
  const std::string hub = dialect.hub_room();
  auto at_hub = [&](const std::string& line) { return Dialect::IsRoomTitle(line, hub); };

  for (const auto& line : dialect.AdminLogin(config.admin, config.password)) c.Send(line);
  c.Send(dialect.Look());
  if (!c.WaitFor(at_hub, config.timeout_s)) {
    throw std::runtime_error("admin login failed; last line: " + c.last());
  }
  for (size_t room = 0; room < config.rooms; ++room) {
    c.Send(dialect.Dig(room));
    if (!c.WaitFor([&](const std::string& l) { return dialect.IsDigReply(l); }, config.timeout_s)) {
      throw std::runtime_error("digging " + Dialect::RoomName(room) +
                               " got no answer; last line: " + c.last());
    }
  }
  c.Send(dialect.Quit());
}

}  // namespace holomush::loadgen
