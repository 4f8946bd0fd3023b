#include "holomush/loadgen/hold.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "holomush/loadgen/dialect.hpp"
#include "holomush/loadgen/telnet_lines.hpp"

namespace holomush::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t stop_requested = 0;
void RequestStop(int) { stop_requested = 1; }

enum class State { kWaiting, kConnecting, kLoggingIn, kHeld, kFailed };

struct Player {
  int fd = -1;
  State state = State::kWaiting;
  TelnetLineReader reader;
};

void Close(Player& p, State state) {
  if (p.fd >= 0) ::close(p.fd);
  p.fd = -1;
  p.state = state;
}

}  // namespace

size_t HoldIdleSessions(const HoldConfig& config, void (*ready)(size_t held)) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(config.port));
  if (inet_pton(AF_INET, config.host.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("hold: --host must be an IPv4 address, not " + config.host);
  }
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) throw std::runtime_error("hold: epoll_create1 failed");
  signal(SIGINT, RequestStop);
  signal(SIGTERM, RequestStop);

  const Dialect dialect = Dialect::For("holomush");
  std::vector<Player> players(config.sessions);
  size_t next = 0, in_flight = 0, held = 0, ended = 0;
  auto progress = Clock::now();
  auto end_login = [&](Player& p, State state) {
    if (state == State::kHeld) {
      p.state = State::kHeld;
      ++held;
    } else {
      Close(p, state);
    }
    --in_flight;
    ++ended;
    progress = Clock::now();
  };
  auto start = [&](size_t i) {
    Player& p = players[i];
    p.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ++in_flight;
    if (p.fd < 0) return end_login(p, State::kFailed);
    p.state = State::kConnecting;
    if (::connect(p.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
        errno != EINPROGRESS) {
      return end_login(p, State::kFailed);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, p.fd, &ev) != 0) end_login(p, State::kFailed);
  };
  auto on_line = [&](size_t i, std::string_view line) {
    Player& p = players[i];
    if (p.state != State::kLoggingIn) return;
    if (line.rfind("Welcome back, ", 0) == 0) {
      end_login(p, State::kHeld);
    } else if (dialect.IsLoginRefusal(line)) {
      end_login(p, State::kFailed);
    }
  };

  std::vector<epoll_event> events(256);
  std::vector<std::string> lines;
  char buf[16384];
  bool announced = false;
  while (stop_requested == 0) {
    while (in_flight < config.login_concurrency && next < players.size()) start(next++);
    if (!announced && ended == players.size()) {
      announced = true;
      ready(held);
    }
    if (!announced &&
        Clock::now() - progress > std::chrono::duration<double>(config.login_timeout_s)) {
      for (auto& p : players) {
        if (p.state == State::kConnecting || p.state == State::kLoggingIn)
          end_login(p, State::kFailed);
      }
      next = players.size();
      continue;
    }
    const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
    for (int k = 0; k < n; ++k) {
      const size_t i = events[static_cast<size_t>(k)].data.u64;
      Player& p = players[i];
      if (p.fd < 0) continue;
      const ssize_t got = ::read(p.fd, buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        // Closed by the server (or the connect failed): a held player is lost, a login failed.
        if (p.state == State::kHeld) {
          Close(p, State::kFailed);
          --held;
        } else {
          end_login(p, State::kFailed);
        }
        continue;
      }
      if (p.state == State::kConnecting) {
        // The greeting: log in and enter, as a returning player.
        p.state = State::kLoggingIn;
        const std::string login =
            dialect.Login(false, Dialect::PlayerName(config.prefix, i), config.password);
        if (::send(p.fd, login.data(), login.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(login.size())) {
          end_login(p, State::kFailed);
          continue;
        }
      }
      lines.clear();
      p.reader.Feed(std::string_view(buf, static_cast<size_t>(got)), lines);
      for (const auto& line : lines) on_line(i, line);
    }
  }
  for (auto& p : players) Close(p, State::kFailed);
  ::close(ep);
  return held;
}

}  // namespace holomush::loadgen
