#include "echo_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace holomush::loadgen {
namespace {

constexpr size_t kMaxPending = 16u << 20;
const std::string kHub = "The Nexus";

struct Client {
  int fd = -1;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool polling_out = false;
  bool dead = false;  // closed; the descriptor is released after the current batch
  std::string name;   // empty until logged in
  std::string room;
  size_t room_pos = 0;
};

// Everything lives on the one thread that runs Serve().
class EchoServer {
 public:
  explicit EchoServer(int port);
  [[noreturn]] void Serve();

 private:
  void Accept();
  void Read(int fd);
  void Handle(Client& c, const std::string& line);
  void Tell(Client& c, const std::string& text);
  void TellRoom(const std::string& room, const std::string& text, int except);
  void Flush(Client& c);
  void Close(Client& c);
  void Enter(Client& c, const std::string& room);
  void LeaveRoom(Client& c);

  int listen_fd_ = -1;
  int epoll_ = -1;
  std::unordered_map<int, Client> clients_;
  std::unordered_map<std::string, std::vector<int>> rooms_;
  std::unordered_map<std::string, int> by_name_;
  std::vector<int> dead_;
};

std::string Lower(std::string s) {
  for (auto& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
  }
  return s;
}

EchoServer::EchoServer(int port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 4096) != 0) {
    throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                             std::strerror(errno));
  }
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd_;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, listen_fd_, &ev);
}

void EchoServer::Serve() {
  epoll_event events[256];
  while (true) {
    const int n = epoll_wait(epoll_, events, 256, -1);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        Accept();
        continue;
      }
      auto it = clients_.find(fd);
      if (it == clients_.end() || it->second.dead) continue;
      if ((events[i].events & EPOLLOUT) != 0) Flush(it->second);
      if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Read(fd);
    }
    // Released only now, so that no descriptor number is reused within a batch.
    for (int fd : dead_) {
      ::close(fd);
      clients_.erase(fd);
    }
    dead_.clear();
  }
}

void EchoServer::Accept() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    Client& c = clients_[fd];
    c.fd = fd;
    Tell(c, "Welcome to the bench echo server.\n  create <name> <password>\n");
  }
}

void EchoServer::Read(int fd) {
  char buf[65536];
  while (true) {
    auto it = clients_.find(fd);
    if (it == clients_.end() || it->second.dead) return;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return Close(it->second);
    if (n < 0) return;
    it->second.in.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = it->second.in.find('\n', start)) != std::string::npos;) {
      std::string line = it->second.in.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      Handle(it->second, line);
      if (it->second.dead) return;
    }
    it->second.in.erase(0, start);
  }
}

void EchoServer::Handle(Client& c, const std::string& line) {
  const size_t sp = line.find(' ');
  const std::string verb = Lower(line.substr(0, sp));
  const std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
  if (verb == "quit") {
    Tell(c, "Goodbye.\n");
    Flush(c);
    return Close(c);
  }
  if (c.name.empty()) {
    if (verb != "create" && verb != "connect") return Tell(c, "Log in first.\n");
    std::string name = Lower(rest.substr(0, rest.find(' ')));
    if (name.empty()) return Tell(c, "Usage: create <name> <password>\n");
    name[0] = static_cast<char>(name[0] - 32 * (name[0] >= 'a' && name[0] <= 'z'));
    if (auto old = by_name_.find(Lower(name)); old != by_name_.end() && old->second != c.fd) {
      // The same player again (a resume): the old connection ends, its place is taken.
      auto prev = clients_.find(old->second);
      if (prev != clients_.end()) {
        c.room = prev->second.room;
        Close(prev->second);
      }
    }
    c.name = name;
    by_name_[Lower(name)] = c.fd;
    Enter(c, c.room.empty() ? kHub : c.room);
    return;
  }
  if (verb == "look" || verb == "l") return Tell(c, c.room + "\nExits: out\n");
  if (verb == "say") {
    Tell(c, "You say, \"" + rest + "\"\n");
    return TellRoom(c.room, c.name + " says, \"" + rest + "\"\n", c.fd);
  }
  if (verb == "pose") return TellRoom(c.room, c.name + " " + rest + "\n", -1);
  if (verb == "page") {
    const size_t eq = rest.find('=');
    auto target = by_name_.find(Lower(rest.substr(0, eq)));
    if (eq == std::string::npos || target == by_name_.end()) return Tell(c, "No such player.\n");
    Tell(clients_.at(target->second), c.name + " pages: " + rest.substr(eq + 1) + "\n");
    return Tell(c, "You page " + rest.substr(0, eq) + ": " + rest.substr(eq + 1) + "\n");
  }
  if (verb == "go") {
    const std::string to = rest == "out"                       ? kHub
                           : rest.size() > 1 && rest[0] == 'b' ? "Bench Room " + rest.substr(1)
                                                               : "";
    if (to.empty()) return Tell(c, "You can't go '" + rest + "' from here.\n");
    TellRoom(c.room, c.name + " leaves " + rest + ".\n", c.fd);
    LeaveRoom(c);
    TellRoom(to, c.name + " has arrived.\n", c.fd);
    Enter(c, to);
    return Tell(c, to + "\nExits: out\n");
  }
  if (verb == "dig") return Tell(c, "Dug \"" + rest + "\".\n");
  Tell(c, "Unknown command. Try 'help'.\n");
}

void EchoServer::Enter(Client& c, const std::string& room) {
  LeaveRoom(c);
  auto& members = rooms_[room];
  c.room = room;
  c.room_pos = members.size();
  members.push_back(c.fd);
}

void EchoServer::LeaveRoom(Client& c) {
  auto it = rooms_.find(c.room);
  if (it == rooms_.end()) return;
  auto& members = it->second;
  if (c.room_pos < members.size() && members[c.room_pos] == c.fd) {
    members[c.room_pos] = members.back();
    clients_.at(members[c.room_pos]).room_pos = c.room_pos;
    members.pop_back();
  }
}

void EchoServer::Tell(Client& c, const std::string& text) {
  if (c.dead) return;
  // Telnet line ends.
  for (char ch : text) {
    if (ch == '\n') c.out.push_back('\r');
    c.out.push_back(ch);
  }
  Flush(c);
}

void EchoServer::TellRoom(const std::string& room, const std::string& text, int except) {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  const std::vector<int> members = it->second;  // Tell may close a client
  for (int fd : members) {
    if (fd == except) continue;
    auto c = clients_.find(fd);
    if (c != clients_.end()) Tell(c->second, text);
  }
}

void EchoServer::Flush(Client& c) {
  while (c.out_off < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    return Close(c);
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out.size() - c.out_off > kMaxPending) {
    return Close(c);
  }
  const bool want = !c.out.empty();
  if (want != c.polling_out) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.fd = c.fd;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
    c.polling_out = want;
  }
}

void EchoServer::Close(Client& c) {
  if (c.dead) return;
  c.dead = true;
  LeaveRoom(c);
  if (!c.name.empty()) {
    auto it = by_name_.find(Lower(c.name));
    if (it != by_name_.end() && it->second == c.fd) by_name_.erase(it);
  }
  epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
  dead_.push_back(c.fd);
}

}  // namespace

int RunEchoServer(int port) {
  try {
    EchoServer server(port);
    std::cout << "echo server listening on 127.0.0.1:" << port << std::endl;
    server.Serve();
  } catch (const std::exception& e) {
    std::cerr << "holomush-bench-echo: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace holomush::loadgen
