#include "holomush/loadgen/driver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <iomanip>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "holomush/loadgen/attack.hpp"
#include "holomush/loadgen/dialect.hpp"
#include "holomush/loadgen/histogram.hpp"
#include "holomush/loadgen/proc_stats.hpp"
#include "holomush/loadgen/schedule.hpp"
#include "holomush/loadgen/telnet_lines.hpp"
#include "holomush/loadgen/token.hpp"

namespace holomush::loadgen {
namespace {

using nlohmann::json;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNever = INT64_MIN;

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kSecond + ts.tv_nsec;
}

int64_t Ns(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1e9)); }

double Ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

double WallSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs a hook through the shell and returns what it printed (trimmed).
std::string RunHook(const std::string& command, double window_start, double window_end) {
  if (command.empty()) return "";
  // Passed on the command line rather than through setenv, which is not thread-safe.
  const std::string full = "LOADGEN_WINDOW_START=" + std::to_string(window_start) +
                           " LOADGEN_WINDOW_END=" + std::to_string(window_end) + "; export " +
                           "LOADGEN_WINDOW_START LOADGEN_WINDOW_END; " + command;
  std::string out;
  if (FILE* p = popen(full.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int rc = pclose(p);
    if (rc != 0)
      std::fprintf(stderr, "holomush-loadgen: hook exited %d: %s\n", rc, command.c_str());
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

// Window-edge hooks run on a thread of their own so that the schedule never waits for them.
std::thread RunHookAside(const std::string& command, double window_start, double window_end) {
  if (command.empty()) return {};
  return std::thread(
      [command, window_start, window_end] { RunHook(command, window_start, window_end); });
}

socklen_t Resolve(const std::string& host, int port, sockaddr_storage& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 ||
      res == nullptr) {
    throw std::runtime_error("cannot resolve " + host);
  }
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  const auto len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  return len;
}

double CpuSeconds(const rusage& r) {
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

json LatencyJson(const LatencyHistogram& h) {
  auto ms = [](int64_t ns) { return std::round(Ms(ns) * 1000.0) / 1000.0; };
  return {{"count", h.count()},
          {"p50_ms", ms(h.Percentile(0.5))},
          {"p90_ms", ms(h.Percentile(0.9))},
          {"p99_ms", ms(h.Percentile(0.99))},
          {"p999_ms", ms(h.Percentile(0.999))},
          {"max_ms", ms(h.max())},
          {"mean_ms", std::round(h.mean() / 1e3) / 1e3}};
}

json GroupsJson(const std::map<std::string, GroupSample>& groups) {
  json out = json::object();
  for (const auto& [name, g] : groups) {
    out[name] = {{"processes", g.processes}, {"rss_kb", g.rss_kb}, {"anon_kb", g.anon_kb},
                 {"pss_kb", g.pss_kb},       {"hwm_kb", g.hwm_kb}, {"cpu_seconds", g.cpu_seconds}};
  }
  return out;
}

enum class Phase : uint8_t {
  kIdle,        // not connected yet
  kConnecting,  // TCP connect in progress
  kBanner,      // connected, waiting for the server's first bytes
  kLogin,       // login sent, waiting for the room title `look` shows
  kPlacing,     // walking from the hub to its room
  kActive,
  kOffline,  // dropped on purpose, waiting to reconnect
  kQuitting,
  kClosed,
  kFailed,
};

struct Session {
  uint32_t index = 0;
  std::string name;
  int fd = -1;
  Phase phase = Phase::kIdle;
  bool reconnecting = false;
  bool polling_out = false;
  TelnetLineReader reader;
  std::string out;
  size_t out_off = 0;
  std::string await_room;  // a title line that completes a login or a move
  int room = -1;           // bench room in the model, -1 when in none
  size_t room_pos = 0;
  int home_room = 0;
  int dest_room = -1;
  bool in_transit = false;
  bool look_pending = false;  // a timed `look`: its room title ends it
  int64_t look_due_ns = 0;
  int64_t move_due_ns = 0;
  int64_t last_move_sent_ns = kNever;
  int64_t last_drop_ns = kNever;
  int64_t phase_start_ns = 0;
  int64_t deadline_ns = 0;
};

constexpr uint8_t kOfflineAtSend = 1;
constexpr uint8_t kReceived = 2;

// One timed message and who should hear it (model of the world at send time).
struct Delivery {
  int64_t due_ns = 0;
  int64_t sent_ns = 0;
  uint32_t sender = 0;
  TokenKind kind = TokenKind::kSay;
  bool measured = false;
  std::vector<uint32_t> recipients;  // sorted
  std::vector<uint8_t> flags;
};

// One of the attacker's connections. Epoll tells them from players by kAttackTag.
enum class AttackPhase : uint8_t { kIdle, kConnecting, kOpen, kClosed };
constexpr uint64_t kAttackTag = uint64_t{1} << 40;

struct AttackConn {
  uint32_t index = 0;
  int fd = -1;
  AttackPhase phase = AttackPhase::kIdle;
  bool polling_out = false;
  bool first_line = true;  // the next line read is the server's first: admitted or refused
  bool admitted = false;
  bool logs_in = false;  // flood, and the first attack_accounts non-readers
  bool placed = false;   // flood: in the room, flooding
  TelnetLineReader reader;
  std::string out;
  size_t out_off = 0;
};

// What the server did to the attacker, as the attacker saw it.
struct AttackStats {
  uint64_t connects = 0, connect_errors = 0, admitted = 0, closed_by_server = 0;
  uint64_t open = 0, peak_open = 0;
  uint64_t attempts = 0, attempts_skipped = 0;            // wrongpass
  uint64_t commands = 0, bytes_sent = 0, bytes_read = 0;  // commands: noread's
  uint64_t flood_bytes = 0;  // says written once in the room, whole lines of flood_line_
  uint64_t replies[kAttackReplies] = {};
  int max_backoff_s = 0;
  std::map<std::string, uint64_t> errors;
  std::map<std::string, uint64_t> other_lines;  // a few of the lines no class fits, counted
};

class Driver {
 public:
  explicit Driver(const RunConfig& config);
  ~Driver();
  json Run();

 private:
  // Connections.
  void StartConnect(Session& s, int64_t now);
  void OnEvent(Session& s, uint32_t events);
  void OnConnected(Session& s);
  void ReadAll(Session& s);
  void Flush(Session& s);
  void Send(Session& s, std::string_view text);
  void Watch(Session& s, bool want_out);
  void CloseFd(Session& s, bool reset);
  void Fail(Session& s, const std::string& why);
  // What the server says.
  void OnLine(Session& s, std::string_view line, int64_t now);
  void OnToken(Session& s, const Token& t, int64_t now);
  void OnRoomTitle(Session& s, int64_t now);
  // The world model.
  void Join(Session& s, int room);
  void Leave(Session& s);
  // Load.
  void Act(uint32_t index, int64_t due, int64_t now);
  void Storm(int64_t now);
  bool Measured(int64_t due) const { return due >= window_start_ && due < window_end_; }
  // The loop.
  void Poll(int64_t deadline);
  void RunUntil(const std::function<bool()>& done, int64_t deadline);
  void PumpLogins();
  void Housekeeping(int64_t now);
  void At(int64_t when, std::function<void(int64_t)> task) {
    tasks_.emplace(when, std::move(task));
  }
  bool LoginBusy(const Session& s) const {
    return !s.reconnecting && (s.phase == Phase::kConnecting || s.phase == Phase::kBanner ||
                               s.phase == Phase::kLogin || s.phase == Phase::kPlacing);
  }
  json Classify();
  json Results(const json& memory);
  // The attacker.
  void StartAttack(int64_t now);
  void StopAttack();
  void AttackConnect(AttackConn& c, int64_t now);
  void OnAttackEvent(AttackConn& c, uint32_t events, int64_t now);
  void AttackRead(AttackConn& c, int64_t now);
  void AttackLine(AttackConn& c, std::string_view line);
  void AttackSend(AttackConn& c, std::string_view text);
  void AttackFlush(AttackConn& c);
  void AttackWatch(AttackConn& c);
  void AttackClosed(AttackConn& c, const std::string& why, int64_t now);
  void AttackPace(int64_t now);
  json AttackJson() const;

  RunConfig config_;
  Dialect dialect_;
  WeightedChoice mix_;
  WeightedChoice zipf_;
  Rng rng_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  int epoll_ = -1;
  std::vector<Session> sessions_;
  std::vector<std::vector<uint32_t>> rooms_;
  std::vector<Delivery> deliveries_;
  std::multimap<int64_t, std::function<void(int64_t)>> tasks_;
  std::unique_ptr<PoissonSchedule> schedule_;
  int64_t load_end_ = kNever;
  int64_t window_start_ = INT64_MAX;
  int64_t window_end_ = INT64_MAX;
  int64_t next_housekeeping_ = 0;
  size_t login_target_ = 0;  // sessions [0, login_target_) should be logged in
  size_t next_login_ = 0;
  size_t logins_in_flight_ = 0;
  std::string filler_;
  std::vector<std::string> lines_;

  // Figures.
  std::map<std::string, uint64_t> failures_;
  LatencyHistogram say_, pose_, page_, say_echo_, look_, move_, replay_, resume_, login_, lag_;
  uint64_t actions_[kActionKinds] = {};
  uint64_t skipped_ = 0, substituted_ = 0, unscored_ = 0;
  uint64_t lines_window_ = 0, lines_total_ = 0, bytes_total_ = 0;
  uint64_t duplicates_ = 0, unexpected_ = 0, stray_ = 0;
  uint64_t drops_ = 0, storms_ = 0;
  int64_t last_token_ns_ = 0;
  int64_t login_started_ns_ = 0, login_done_ns_ = 0;
  rusage usage_start_{}, usage_end_{};
  double wall_start_ = 0, wall_end_ = 0;
  double busy_start_ = 0, busy_end_ = 0;  // the whole machine's busy CPU seconds
  std::map<std::string, GroupSample> groups_start_, groups_end_;
  std::unique_ptr<ProcSampler> sampler_;
  std::vector<std::thread> hooks_;
  json memory_before_ = json::object(), memory_after_login_ = json::object();

  AttackKind attack_kind_ = AttackKind::kNone;
  sockaddr_storage attack_addr_{};
  socklen_t attack_len_ = 0;
  std::vector<AttackConn> attack_;
  AttackStats attack_stats_;
  std::unique_ptr<PacedSchedule> attack_pace_;
  uint64_t attack_next_conn_ = 0;
  std::string flood_chunk_;  // 32 KiB of says, written whole
  uint64_t flood_line_bytes_ = 0;
  bool attack_on_ = false;
  int64_t attack_started_ns_ = 0, attack_stopped_ns_ = 0;
};

Driver::Driver(const RunConfig& config)
    : config_(config),
      dialect_(Dialect::For(config.target)),
      mix_(ParseMix(config.mix)),
      zipf_(ZipfChoice(std::max<size_t>(config.rooms, 1), config.zipf)),
      rng_(config.seed ^ 0x5eed0f10adULL) {
  if (config_.rooms == 0) throw std::invalid_argument("rooms must be at least 1");
  if (!config_.idle_steps.empty()) {
    std::sort(config_.idle_steps.begin(), config_.idle_steps.end());
    config_.sessions = config_.idle_steps.back();
    config_.rate = 0;
  }
  addr_len_ = Resolve(config_.host, config_.port, addr_);
  attack_kind_ = ParseAttack(config_.attack);
  if (attack_kind_ != AttackKind::kNone) {
    if (config_.attack_host.empty()) throw std::invalid_argument("an attack needs --attack-host");
    attack_len_ = Resolve(config_.attack_host, config_.port, attack_addr_);
    if (config_.attack_count == 0) config_.attack_count = DefaultAttackCount(attack_kind_);
    if (config_.attack_rate == 0) {
      config_.attack_rate = attack_kind_ == AttackKind::kWrongPass ? 200
                            : attack_kind_ == AttackKind::kNoRead  ? 9
                                                                   : 0;
    }
    if (config_.attack_room >= config_.rooms) {
      throw std::invalid_argument("--attack-room must be one of the rooms in use");
    }
    attack_.resize(config_.attack_count);
    for (size_t i = 0; i < attack_.size(); ++i) {
      attack_[i].index = static_cast<uint32_t>(i);
      attack_[i].logs_in = attack_kind_ == AttackKind::kFlood ||
                           (attack_kind_ == AttackKind::kNoRead && i < config_.attack_accounts);
    }
  }

  // A thousand sessions need more descriptors than the usual soft limit of 1024.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) throw std::runtime_error("epoll_create1 failed");

  static const std::string kText =
      "the quick brown fox jumps over the lazy dog while the band plays on and on ";
  while (filler_.size() < config_.filler_bytes) filler_ += kText;
  filler_.resize(config_.filler_bytes);
  while (!filler_.empty() && filler_.back() == ' ') filler_.pop_back();
  const std::string flood_line = dialect_.Say("flood " + filler_);
  flood_line_bytes_ = flood_line.size();
  while (flood_chunk_.size() + flood_line.size() <= 32768) flood_chunk_ += flood_line;

  Rng placement(config_.seed ^ 0x9a11ace5ULL);
  sessions_.resize(config_.sessions);
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].index = static_cast<uint32_t>(i);
    sessions_[i].name = Dialect::PlayerName(config_.prefix, i);
    sessions_[i].home_room = static_cast<int>(zipf_.Pick(placement));
  }
  rooms_.resize(config_.rooms);
  if (!config_.watch.empty()) {
    sampler_ = std::make_unique<ProcSampler>(config_.watch, std::chrono::milliseconds(200));
  }
}

Driver::~Driver() {
  for (auto& s : sessions_) {
    if (s.fd >= 0) ::close(s.fd);
  }
  for (auto& c : attack_) {
    if (c.fd >= 0) ::close(c.fd);
  }
  if (epoll_ >= 0) ::close(epoll_);
}

// ---- connections ----------------------------------------------------------------------

void Driver::StartConnect(Session& s, int64_t now) {
  s.reader.Reset();
  s.out.clear();
  s.out_off = 0;
  s.phase_start_ns = now;
  s.deadline_ns = now + Ns(config_.login_timeout_s);
  s.fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd < 0) return Fail(s, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s.phase = Phase::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = s.index;
  s.polling_out = true;
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
    return Fail(s, std::string("epoll_ctl: ") + std::strerror(errno));
  }
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr_), addr_len_) != 0 &&
      errno != EINPROGRESS) {
    return Fail(s, std::string("connect: ") + std::strerror(errno));
  }
}

void Driver::Watch(Session& s, bool want_out) {
  if (s.fd < 0 || s.polling_out == want_out) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0u);
  ev.data.u64 = s.index;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev);
  s.polling_out = want_out;
}

void Driver::OnEvent(Session& s, uint32_t events) {
  if (s.phase == Phase::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return Fail(s, std::string("connect: ") + std::strerror(err));
    s.phase = Phase::kBanner;
    Watch(s, false);
    return;
  }
  if ((events & EPOLLOUT) != 0) Flush(s);
  if (s.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) ReadAll(s);
}

void Driver::OnConnected(Session& s) {
  // The server has greeted us: log in, then `look` shows the room we are in.
  const bool create = config_.create && !s.reconnecting;
  s.phase = Phase::kLogin;
  s.await_room =
      s.reconnecting ? Dialect::RoomName(static_cast<size_t>(s.room)) : dialect_.hub_room();
  Send(s, dialect_.Login(create, s.name, config_.password) + dialect_.Look());
}

void Driver::ReadAll(Session& s) {
  char buf[65536];
  while (s.fd >= 0) {
    const ssize_t n = ::read(s.fd, buf, sizeof buf);
    if (n > 0) {
      const int64_t now = NowNs();
      bytes_total_ += static_cast<uint64_t>(n);
      if (s.phase == Phase::kBanner) OnConnected(s);
      lines_.clear();
      s.reader.Feed(std::string_view(buf, static_cast<size_t>(n)), lines_);
      for (const auto& line : lines_) {
        if (s.fd < 0) break;
        OnLine(s, line, now);
      }
      if (static_cast<size_t>(n) < sizeof buf) return;
      continue;
    }
    if (n == 0) {
      if (s.phase == Phase::kQuitting) {
        CloseFd(s, false);
        s.phase = Phase::kClosed;
      } else {
        Fail(s, "closed by server");
      }
      return;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      if (s.phase == Phase::kQuitting) {
        CloseFd(s, false);
        s.phase = Phase::kClosed;
      } else {
        Fail(s, std::string("read: ") + std::strerror(errno));
      }
    }
    return;
  }
}

void Driver::Send(Session& s, std::string_view text) {
  if (s.fd < 0) return;
  if (s.out_off < s.out.size()) {
    s.out.append(text);
    return;
  }
  s.out.assign(text);
  s.out_off = 0;
  Flush(s);
}

void Driver::Flush(Session& s) {
  while (s.fd >= 0 && s.out_off < s.out.size()) {
    const ssize_t n =
        ::send(s.fd, s.out.data() + s.out_off, s.out.size() - s.out_off, MSG_NOSIGNAL);
    if (n > 0) {
      s.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      Watch(s, true);
      return;
    }
    return Fail(s, std::string("write: ") + std::strerror(errno));
  }
  if (s.out_off >= s.out.size()) {
    s.out.clear();
    s.out_off = 0;
    Watch(s, false);
  }
}

void Driver::CloseFd(Session& s, bool reset) {
  if (s.fd < 0) return;
  if (reset) {
    // A dropped link, not a goodbye: the server sees a reset, as with a lost network.
    linger l{1, 0};
    setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  epoll_ctl(epoll_, EPOLL_CTL_DEL, s.fd, nullptr);
  ::close(s.fd);
  s.fd = -1;
  s.polling_out = false;
  s.out.clear();
  s.out_off = 0;
}

void Driver::Fail(Session& s, const std::string& why) {
  const bool was_logging_in = LoginBusy(s);
  if (was_logging_in) --logins_in_flight_;
  s.reconnecting = false;
  CloseFd(s, false);
  Leave(s);
  s.in_transit = false;
  s.await_room.clear();
  s.phase = Phase::kFailed;
  ++failures_[why];
  if (was_logging_in) PumpLogins();
}

// ---- what the server says -------------------------------------------------------------

void Driver::OnLine(Session& s, std::string_view line, int64_t now) {
  ++lines_total_;
  if (now >= window_start_ && now < window_end_) ++lines_window_;
  if (auto token = FindToken(line)) return OnToken(s, *token, now);
  if (!s.await_room.empty() && Dialect::IsRoomTitle(line, s.await_room)) {
    OnRoomTitle(s, now);
  } else if (s.phase == Phase::kLogin && dialect_.IsLoginRefusal(line)) {
    Fail(s, "refused: " + std::string(line));
  }
}

void Driver::OnToken(Session& s, const Token& t, int64_t now) {
  if (t.id >= deliveries_.size()) {
    ++stray_;
    return;
  }
  last_token_ns_ = now;
  Delivery& d = deliveries_[t.id];
  const int64_t latency = now - d.due_ns;
  if (t.sender == s.index) {
    if (d.kind == TokenKind::kSay && d.measured) say_echo_.Record(latency);
    return;
  }
  bool offline = false;
  auto it = std::lower_bound(d.recipients.begin(), d.recipients.end(), s.index);
  if (it != d.recipients.end() && *it == s.index) {
    uint8_t& f = d.flags[static_cast<size_t>(it - d.recipients.begin())];
    if ((f & kReceived) != 0) {
      ++duplicates_;
      return;
    }
    f |= kReceived;
    offline = (f & kOfflineAtSend) != 0;
  } else if (d.measured) {
    ++unexpected_;
  }
  if (!d.measured) return;
  if (offline) {
    replay_.Record(latency);
  } else if (d.kind == TokenKind::kSay) {
    say_.Record(latency);
  } else if (d.kind == TokenKind::kPose) {
    pose_.Record(latency);
  } else {
    page_.Record(latency);
  }
}

void Driver::OnRoomTitle(Session& s, int64_t now) {
  switch (s.phase) {
    case Phase::kLogin:
      if (s.reconnecting) {
        s.reconnecting = false;
        s.phase = Phase::kActive;
        s.await_room.clear();
        resume_.Record(now - s.phase_start_ns);
        return;
      }
      if (config_.accounts_only) {
        // The account exists and its character stands in the hub: that is all we wanted.
        s.phase = Phase::kActive;
        s.await_room.clear();
        login_.Record(now - s.phase_start_ns);
        --logins_in_flight_;
        PumpLogins();
        return;
      }
      s.phase = Phase::kPlacing;
      s.await_room = Dialect::RoomName(static_cast<size_t>(s.home_room));
      Send(s, dialect_.Enter(static_cast<size_t>(s.home_room)));
      return;
    case Phase::kPlacing:
      s.phase = Phase::kActive;
      s.await_room.clear();
      Join(s, s.home_room);
      login_.Record(now - s.phase_start_ns);
      --logins_in_flight_;
      PumpLogins();
      return;
    case Phase::kActive:
      if (s.look_pending) {
        s.look_pending = false;
        s.await_room.clear();
        if (Measured(s.look_due_ns)) look_.Record(now - s.look_due_ns);
        return;
      }
      if (!s.in_transit) return;
      s.in_transit = false;
      s.await_room.clear();
      Join(s, s.dest_room);
      if (Measured(s.move_due_ns)) move_.Record(now - s.move_due_ns);
      return;
    default:
      return;
  }
}

// ---- the world model ------------------------------------------------------------------

void Driver::Join(Session& s, int room) {
  Leave(s);
  auto& members = rooms_[static_cast<size_t>(room)];
  s.room = room;
  s.room_pos = members.size();
  members.push_back(s.index);
}

void Driver::Leave(Session& s) {
  if (s.room < 0) return;
  auto& members = rooms_[static_cast<size_t>(s.room)];
  const uint32_t moved = members.back();
  members[s.room_pos] = moved;
  sessions_[moved].room_pos = s.room_pos;
  members.pop_back();
  s.room = -1;
}

// ---- load -----------------------------------------------------------------------------

void Driver::Act(uint32_t index, int64_t due, int64_t now) {
  const bool measured = Measured(due);
  if (measured) lag_.Record(now - due);
  Session& s = sessions_[index];
  if (s.phase != Phase::kActive) {
    if (measured) ++skipped_;
    return;
  }
  auto kind = static_cast<ActionKind>(mix_.Pick(rng_));
  uint32_t target = index;
  if (kind == ActionKind::kMove && s.in_transit) {
    kind = ActionKind::kLook;
    if (measured) ++substituted_;
  }
  if (kind == ActionKind::kPage) {
    for (int tries = 0; tries < 8 && target == index; ++tries) {
      const auto pick = static_cast<uint32_t>(rng_.Below(sessions_.size()));
      if (pick != index && sessions_[pick].phase == Phase::kActive) target = pick;
    }
    if (target == index) {
      kind = ActionKind::kLook;
      if (measured) ++substituted_;
    }
  }
  if (measured) ++actions_[static_cast<size_t>(kind)];

  switch (kind) {
    case ActionKind::kSay:
    case ActionKind::kPose:
    case ActionKind::kPage: {
      Delivery d;
      d.due_ns = due;
      d.sent_ns = now;
      d.sender = index;
      d.measured = measured;
      d.kind = kind == ActionKind::kSay    ? TokenKind::kSay
               : kind == ActionKind::kPose ? TokenKind::kPose
                                           : TokenKind::kPage;
      if (kind == ActionKind::kPage) {
        d.recipients.push_back(target);
      } else if (s.in_transit) {
        // Which room hears it depends on how far the move got: time it, don't score it.
        if (measured) ++unscored_;
      } else {
        for (uint32_t r : rooms_[static_cast<size_t>(s.room)]) {
          if (r != index) d.recipients.push_back(r);
        }
        std::sort(d.recipients.begin(), d.recipients.end());
      }
      d.flags.resize(d.recipients.size(), 0);
      for (size_t i = 0; i < d.recipients.size(); ++i) {
        // Offline until logged back in: a server that drops what happens meanwhile loses it.
        const Session& r = sessions_[d.recipients[i]];
        if (r.phase == Phase::kOffline || r.reconnecting) d.flags[i] = kOfflineAtSend;
      }
      const std::string token = FormatToken(
          {.kind = d.kind, .id = deliveries_.size(), .sender = index, .due_ns = due}, filler_);
      deliveries_.push_back(std::move(d));
      if (kind == ActionKind::kSay) {
        Send(s, dialect_.Say(token));
      } else if (kind == ActionKind::kPose) {
        Send(s, dialect_.Pose(token));
      } else {
        Send(s, dialect_.Page(sessions_[target].name, token));
      }
      return;
    }
    case ActionKind::kLook:
      if (!s.in_transit && !s.look_pending && s.room >= 0) {
        s.look_pending = true;
        s.look_due_ns = due;
        s.await_room = Dialect::RoomName(static_cast<size_t>(s.room));
      }
      Send(s, dialect_.Look());
      return;
    case ActionKind::kMove: {
      int dest = s.room;
      for (int tries = 0; tries < 16 && dest == s.room; ++tries) {
        dest = static_cast<int>(zipf_.Pick(rng_));
      }
      Leave(s);
      s.look_pending = false;  // the look's title would be the room being left
      s.in_transit = true;
      s.dest_room = dest;
      s.move_due_ns = due;
      s.last_move_sent_ns = now;
      s.await_room = Dialect::RoomName(static_cast<size_t>(dest));
      Send(s, dialect_.Move(static_cast<size_t>(dest)));
      return;
    }
  }
}

void Driver::Storm(int64_t now) {
  std::vector<uint32_t> candidates;
  for (const auto& s : sessions_) {
    if (s.phase == Phase::kActive && !s.in_transit && s.room >= 0) candidates.push_back(s.index);
  }
  const auto count = static_cast<size_t>(
      std::llround(config_.drop_fraction * static_cast<double>(candidates.size())));
  std::vector<uint32_t> batch;
  for (size_t i = 0; i < count && i < candidates.size(); ++i) {
    const size_t j = i + rng_.Below(candidates.size() - i);
    std::swap(candidates[i], candidates[j]);
    Session& s = sessions_[candidates[i]];
    CloseFd(s, true);
    s.phase = Phase::kOffline;
    s.last_drop_ns = now;
    batch.push_back(s.index);
  }
  ++storms_;
  drops_ += batch.size();
  At(now + Ns(config_.drop_pause_s), [this, batch](int64_t at) {
    for (uint32_t i : batch) {
      Session& s = sessions_[i];
      if (s.phase != Phase::kOffline) continue;
      s.reconnecting = true;
      StartConnect(s, at);
    }
  });
}

// ---- the attacker ---------------------------------------------------------------------

void Driver::StartAttack(int64_t now) {
  attack_on_ = true;
  attack_started_ns_ = now;
  for (auto& c : attack_) AttackConnect(c, now);
  if (attack_kind_ == AttackKind::kWrongPass || attack_kind_ == AttackKind::kNoRead) {
    attack_pace_ = std::make_unique<PacedSchedule>(config_.attack_rate, now);
    At(now, [this](int64_t at) { AttackPace(at); });
  }
}

void Driver::StopAttack() {
  if (!attack_on_) return;
  attack_on_ = false;
  attack_stopped_ns_ = NowNs();
  for (auto& c : attack_) {
    if (c.fd < 0) continue;
    // A non-reader's first lines say what the server made of it (admitted or refused,
    // logged in or throttled); reading them now, with the attack over, changes nothing.
    if (attack_kind_ == AttackKind::kNoRead && c.phase == AttackPhase::kOpen) {
      char buf[16384];
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        attack_stats_.bytes_read += static_cast<uint64_t>(n);
        lines_.clear();
        c.reader.Feed(std::string_view(buf, static_cast<size_t>(n)), lines_);
        for (const auto& line : lines_) AttackLine(c, line);
      }
    }
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    c.phase = AttackPhase::kClosed;
  }
}

void Driver::AttackConnect(AttackConn& c, int64_t now) {
  (void)now;
  c.reader.Reset();
  c.out.clear();
  c.out_off = 0;
  c.first_line = true;
  c.placed = false;
  ++attack_stats_.connects;
  c.fd = ::socket(attack_addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    ++attack_stats_.connect_errors;
    ++attack_stats_.errors[std::string("socket: ") + std::strerror(errno)];
    c.phase = AttackPhase::kClosed;
    return;
  }
  if (attack_kind_ == AttackKind::kNoRead) {
    // Set before connecting so the window the server sees is small from the start.
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &config_.attack_rcvbuf, sizeof config_.attack_rcvbuf);
  }
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c.phase = AttackPhase::kConnecting;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = kAttackTag | c.index;
  c.polling_out = true;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&attack_addr_), attack_len_) != 0 &&
      errno != EINPROGRESS) {
    ++attack_stats_.connect_errors;
    AttackClosed(c, std::string("connect: ") + std::strerror(errno), NowNs());
  }
}

// Non-readers ask only for the hang-up; the others read everything.
void Driver::AttackWatch(AttackConn& c) {
  if (c.fd < 0) return;
  const bool want_out = c.out_off < c.out.size() || (c.placed && attack_on_);
  epoll_event ev{};
  ev.events = (attack_kind_ == AttackKind::kNoRead ? EPOLLRDHUP : EPOLLIN | EPOLLRDHUP) |
              (want_out ? EPOLLOUT : 0u);
  ev.data.u64 = kAttackTag | c.index;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  c.polling_out = want_out;
}

void Driver::OnAttackEvent(AttackConn& c, uint32_t events, int64_t now) {
  if (c.fd < 0) return;
  if (c.phase == AttackPhase::kConnecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      ++attack_stats_.connect_errors;
      return AttackClosed(c, std::string("connect: ") + std::strerror(err), now);
    }
    c.phase = AttackPhase::kOpen;
    attack_stats_.peak_open = std::max(attack_stats_.peak_open, ++attack_stats_.open);
    if (attack_kind_ == AttackKind::kNoRead && c.logs_in) {
      // Log in, walk into the busiest room and never read a byte of what it says.
      AttackSend(c, dialect_.Login(false, Dialect::PlayerName(config_.attack_prefix, c.index),
                                   config_.password) +
                        dialect_.Enter(config_.attack_room));
    }
    AttackWatch(c);
    return;
  }
  if (attack_kind_ == AttackKind::kNoRead) {
    if ((events & EPOLLOUT) != 0) AttackFlush(c);
    if (c.fd >= 0 && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
      // The server hung up: what it said first tells why (refusal, or greeting then close).
      AttackRead(c, now);
      if (c.fd >= 0) AttackClosed(c, "closed by server", now);
    }
    return;
  }
  if ((events & EPOLLOUT) != 0) AttackFlush(c);
  if (c.fd >= 0 && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) AttackRead(c, now);
}

void Driver::AttackRead(AttackConn& c, int64_t now) {
  char buf[65536];
  while (c.fd >= 0) {
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n > 0) {
      attack_stats_.bytes_read += static_cast<uint64_t>(n);
      lines_.clear();
      c.reader.Feed(std::string_view(buf, static_cast<size_t>(n)), lines_);
      for (const auto& line : lines_) {
        if (c.fd < 0) break;
        AttackLine(c, line);
      }
      if (static_cast<size_t>(n) < sizeof buf) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    return AttackClosed(
        c, n == 0 ? "closed by server" : std::string("read: ") + std::strerror(errno), now);
  }
}

void Driver::AttackLine(AttackConn& c, std::string_view line) {
  if (line.empty()) return;
  const AttackReply reply = ClassifyAttackReply(line);
  ++attack_stats_.replies[static_cast<size_t>(reply)];
  if (reply == AttackReply::kOther) {
    std::string key(line.substr(0, 80));
    auto it = attack_stats_.other_lines.find(key);
    if (it != attack_stats_.other_lines.end()) {
      ++it->second;
    } else if (attack_stats_.other_lines.size() < 12) {
      attack_stats_.other_lines.emplace(std::move(key), 1);
    }
  }
  if (c.first_line) {
    c.first_line = false;
    if (reply == AttackReply::kBanner) {
      c.admitted = true;
      ++attack_stats_.admitted;
    }
  }
  if (reply == AttackReply::kBackoff) {
    attack_stats_.max_backoff_s =
        std::max(attack_stats_.max_backoff_s, BackoffSeconds(line).value_or(0));
  }
  if (attack_kind_ != AttackKind::kFlood || c.fd < 0 || !attack_on_) return;
  if (reply == AttackReply::kBanner && !c.placed && c.out.empty()) {
    AttackSend(c, dialect_.Login(false, Dialect::PlayerName(config_.attack_prefix, c.index),
                                 config_.password) +
                      dialect_.Look());
  } else if (reply == AttackReply::kLoggedIn && !c.placed) {
    if (Dialect::IsRoomTitle(line, Dialect::RoomName(config_.attack_room))) {
      c.placed = true;  // in the room: from now on, say as fast as the socket takes it
      AttackFlush(c);
    } else if (Dialect::IsRoomTitle(line, dialect_.hub_room())) {
      AttackSend(c, dialect_.Enter(config_.attack_room));
    }
  }
}

void Driver::AttackSend(AttackConn& c, std::string_view text) {
  if (c.fd < 0) return;
  if (c.out_off < c.out.size()) {
    c.out.append(text);
    return;
  }
  c.out.assign(text);
  c.out_off = 0;
  AttackFlush(c);
}

void Driver::AttackFlush(AttackConn& c) {
  // A flooder refills its buffer as soon as it drains, a few times per wake-up at most so
  // that the players' schedule on this same thread keeps its time.
  for (int refills = 0; c.fd >= 0; ++refills) {
    while (c.fd >= 0 && c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        attack_stats_.bytes_sent += static_cast<uint64_t>(n);
        if (c.placed) attack_stats_.flood_bytes += static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.polling_out) AttackWatch(c);
        return;
      }
      return AttackClosed(c, std::string("write: ") + std::strerror(errno), NowNs());
    }
    if (!(c.placed && attack_on_) || refills >= 4) break;
    c.out = flood_chunk_;
    c.out_off = 0;
  }
  if (c.fd >= 0 && c.out_off >= c.out.size() && !(c.placed && attack_on_)) {
    c.out.clear();
    c.out_off = 0;
  }
  if (c.fd >= 0) AttackWatch(c);
}

void Driver::AttackClosed(AttackConn& c, const std::string& why, int64_t now) {
  if (c.fd >= 0) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
  }
  if (c.phase == AttackPhase::kOpen && attack_stats_.open > 0) --attack_stats_.open;
  if (c.admitted && why == "closed by server") ++attack_stats_.closed_by_server;
  if (why != "closed by server") ++attack_stats_.errors[why];
  c.phase = AttackPhase::kClosed;
  c.admitted = false;
  c.placed = false;
  c.polling_out = false;
  if (attack_on_ && config_.attack_retry_s > 0) {
    const uint32_t index = c.index;
    At(now + Ns(config_.attack_retry_s), [this, index](int64_t at) {
      if (attack_on_ && attack_[index].fd < 0) AttackConnect(attack_[index], at);
    });
  }
}

// Wrong passwords at a fixed rate, spread over the open connections; or, for the
// non-readers, a command from each that logged in (output it asked for and never reads).
void Driver::AttackPace(int64_t now) {
  if (!attack_on_ || !attack_pace_) return;
  if (attack_kind_ == AttackKind::kWrongPass) {
    const uint64_t due = attack_pace_->Due(now);
    while (attack_stats_.attempts + attack_stats_.attempts_skipped < due) {
      AttackConn* pick = nullptr;
      for (size_t tries = 0; tries < attack_.size() && pick == nullptr; ++tries) {
        AttackConn& c = attack_[attack_next_conn_++ % attack_.size()];
        if (c.phase == AttackPhase::kOpen && c.admitted) pick = &c;
      }
      if (pick == nullptr) {
        ++attack_stats_.attempts_skipped;
        continue;
      }
      // A real player's name (names are public), a password that is not theirs.
      const uint64_t k = attack_stats_.attempts++;
      const std::string victim = Dialect::PlayerName(config_.prefix, k % sessions_.size());
      AttackSend(*pick, dialect_.Login(false, victim, "not" + config_.password));
    }
    At(attack_pace_->At(due), [this](int64_t at) { AttackPace(at); });
    return;
  }
  const std::string command = config_.attack_command + "\r\n";
  for (auto& c : attack_) {
    if (c.phase != AttackPhase::kOpen || !c.logs_in) continue;
    ++attack_stats_.commands;
    AttackSend(c, command);
  }
  At(now + Ns(1.0 / config_.attack_rate), [this](int64_t at) { AttackPace(at); });
}

json Driver::AttackJson() const {
  const auto& a = attack_stats_;
  json replies = json::object();
  for (size_t i = 0; i < kAttackReplies; ++i) {
    if (a.replies[i] > 0) replies[AttackReplyName(static_cast<AttackReply>(i))] = a.replies[i];
  }
  const double seconds = static_cast<double>(attack_stopped_ns_ - attack_started_ns_) / 1e9;
  return {{"kind", AttackName(attack_kind_)},
          {"host", config_.attack_host},
          {"connections", config_.attack_count},
          {"rate", config_.attack_rate},
          {"lead_s", config_.attack_lead_s},
          {"retry_s", config_.attack_retry_s},
          {"seconds", seconds},
          {"connects", a.connects},
          {"connect_errors", a.connect_errors},
          {"admitted", a.admitted},
          {"closed_by_server", a.closed_by_server},
          {"open_at_end", a.open},
          {"peak_open", a.peak_open},
          {"attempts", a.attempts},
          {"attempts_skipped_no_connection", a.attempts_skipped},
          {"says_sent", flood_line_bytes_ > 0 ? a.flood_bytes / flood_line_bytes_ : 0},
          {"commands_sent", a.commands},
          {"command", config_.attack_command},
          {"bytes_sent", a.bytes_sent},
          {"bytes_read", a.bytes_read},
          {"max_backoff_s", a.max_backoff_s},
          {"replies", replies},
          {"errors", a.errors},
          {"other_lines", a.other_lines}};
}

// ---- the loop -------------------------------------------------------------------------

void Driver::Poll(int64_t deadline) {
  int64_t wake = std::min(deadline, next_housekeeping_);
  if (schedule_ && !schedule_->Empty() && schedule_->NextTime() < load_end_) {
    wake = std::min(wake, schedule_->NextTime());
  }
  if (!tasks_.empty()) wake = std::min(wake, tasks_.begin()->first);
  const int64_t wait = std::max<int64_t>(0, wake - NowNs());
  timespec timeout{static_cast<time_t>(wait / kSecond), static_cast<long>(wait % kSecond)};
  epoll_event events[256];
  const int n = epoll_pwait2(epoll_, events, 256, &timeout, nullptr);
  for (int i = 0; i < n; ++i) {
    const uint64_t tag = events[i].data.u64;
    if ((tag & kAttackTag) != 0) {
      OnAttackEvent(attack_[tag & ~kAttackTag], events[i].events, NowNs());
    } else {
      OnEvent(sessions_[tag], events[i].events);
    }
  }
  int64_t now = NowNs();
  while (schedule_ && !schedule_->Empty() && schedule_->NextTime() <= now &&
         schedule_->NextTime() < load_end_) {
    const auto a = schedule_->Pop();
    Act(a.session, a.time_ns, now);
    now = NowNs();
  }
  while (!tasks_.empty() && tasks_.begin()->first <= now) {
    auto task = std::move(tasks_.begin()->second);
    tasks_.erase(tasks_.begin());
    task(now);
  }
  if (now >= next_housekeeping_) Housekeeping(now);
}

void Driver::RunUntil(const std::function<bool()>& done, int64_t deadline) {
  while (!done() && NowNs() < deadline) Poll(deadline);
}

void Driver::PumpLogins() {
  const int64_t now = NowNs();
  while (next_login_ < login_target_ && logins_in_flight_ < config_.login_concurrency) {
    Session& s = sessions_[next_login_++];
    ++logins_in_flight_;
    StartConnect(s, now);
  }
}

void Driver::Housekeeping(int64_t now) {
  next_housekeeping_ = now + kSecond / 5;
  for (auto& s : sessions_) {
    const bool waiting = s.phase == Phase::kConnecting || s.phase == Phase::kBanner ||
                         s.phase == Phase::kLogin || s.phase == Phase::kPlacing;
    if (waiting && now > s.deadline_ns) {
      Fail(s, s.reconnecting ? "reconnect timeout" : "login timeout");
    }
  }
  PumpLogins();
}

json Driver::Classify() {
  uint64_t expected = 0, received = 0, lost = 0, lost_offline = 0, lost_at_drop = 0,
           lost_failed = 0, excused = 0;
  for (const auto& d : deliveries_) {
    if (!d.measured) continue;
    for (size_t i = 0; i < d.recipients.size(); ++i) {
      ++expected;
      if ((d.flags[i] & kReceived) != 0) {
        ++received;
        continue;
      }
      const Session& r = sessions_[d.recipients[i]];
      if (r.last_move_sent_ns >= d.sent_ns) {
        ++excused;  // it left the room (or set off) before the server handled the message
      } else if ((d.flags[i] & kOfflineAtSend) != 0) {
        ++lost_offline;
      } else if (r.last_drop_ns >= d.sent_ns) {
        ++lost_at_drop;
      } else if (r.phase == Phase::kFailed) {
        ++lost_failed;
      } else {
        ++lost;
      }
    }
  }
  return {{"expected", expected},
          {"received", received},
          {"lost", lost},
          {"lost_while_offline", lost_offline},
          {"lost_at_drop", lost_at_drop},
          {"lost_connection_failed", lost_failed},
          {"excused_moved", excused},
          {"duplicates", duplicates_},
          {"unexpected", unexpected_},
          {"unscored_messages", unscored_},
          {"stray_tokens", stray_}};
}

json Driver::Run() {
  if (sampler_) {
    sampler_->ResetPeaks();
    memory_before_ = GroupsJson(sampler_->Now());
  }
  if (attack_kind_ != AttackKind::kNone) {
    // The attack runs alone for a while, then on through the players' logins and load.
    StartAttack(NowNs());
    RunUntil([] { return false; }, NowNs() + Ns(config_.attack_lead_s));
  }
  login_started_ns_ = NowNs();
  json memory_steps = json::array();
  std::vector<size_t> steps = config_.idle_steps;
  if (steps.empty()) steps.push_back(config_.sessions);
  auto settled = [this] {
    for (size_t i = 0; i < login_target_; ++i) {
      const Phase p = sessions_[i].phase;
      if (p != Phase::kActive && p != Phase::kFailed) return false;
    }
    return true;
  };
  const int64_t login_budget =
      Ns(config_.login_timeout_s) *
      static_cast<int64_t>(1 + config_.sessions / std::max<size_t>(config_.login_concurrency, 1));
  for (size_t step : steps) {
    login_target_ = std::min(step, sessions_.size());
    PumpLogins();
    RunUntil(settled, NowNs() + login_budget);
    if (!config_.idle_steps.empty()) {
      RunUntil([] { return false; }, NowNs() + Ns(config_.settle_s));
      size_t active = 0;
      for (const auto& s : sessions_) active += s.phase == Phase::kActive ? 1 : 0;
      memory_steps.push_back(
          {{"sessions", active}, {"groups", sampler_ ? GroupsJson(sampler_->Now()) : json()}});
    }
  }
  login_done_ns_ = NowNs();
  if (sampler_) memory_after_login_ = GroupsJson(sampler_->Now());

  if (config_.rate > 0) {
    const int64_t start = NowNs() + kSecond / 20;
    window_start_ = start + Ns(config_.warmup_s);
    window_end_ = window_start_ + Ns(config_.duration_s);
    load_end_ = window_end_;
    schedule_ =
        std::make_unique<PoissonSchedule>(sessions_.size(), config_.rate, start, config_.seed);
    At(window_start_, [this](int64_t) {
      wall_start_ = WallSeconds();
      hooks_.push_back(RunHookAside(config_.on_window_start, wall_start_, 0));
      getrusage(RUSAGE_SELF, &usage_start_);
      if (sampler_) groups_start_ = sampler_->Now();
      busy_start_ = MachineBusySeconds();
    });
    At(window_end_, [this](int64_t) {
      getrusage(RUSAGE_SELF, &usage_end_);
      busy_end_ = MachineBusySeconds();
      if (sampler_) groups_end_ = sampler_->Now();
      wall_end_ = WallSeconds();
      hooks_.push_back(RunHookAside(config_.on_window_end, wall_start_, wall_end_));
      StopAttack();
    });
    if (config_.drop_fraction > 0 && config_.drop_every_s > 0) {
      for (int64_t t = window_start_ + Ns(config_.drop_every_s); t < window_end_;
           t += Ns(config_.drop_every_s)) {
        At(t, [this](int64_t now) { Storm(now); });
      }
    }
    RunUntil([] { return false; }, window_end_ + 1);
    // Drain: the last messages are still on their way.
    const int64_t drain_end = NowNs() + Ns(config_.drain_s);
    RunUntil(
        [this] {
          bool reconnecting = false;
          for (const auto& s : sessions_)
            reconnecting |= s.phase == Phase::kOffline || s.reconnecting;
          return !reconnecting && NowNs() - last_token_ns_ > kSecond;
        },
        drain_end);
  } else {
    getrusage(RUSAGE_SELF, &usage_start_);
    usage_end_ = usage_start_;
  }
  StopAttack();
  for (auto& hook : hooks_) {
    if (hook.joinable()) hook.join();
  }
  json memory = {{"before_login", memory_before_},
                 {"after_login", memory_after_login_},
                 {"steps", memory_steps}};
  json results = Results(memory);

  // Say goodbye so that no session lingers into the next scenario.
  for (auto& s : sessions_) {
    if (s.fd >= 0 && s.phase != Phase::kConnecting) {
      Send(s, dialect_.Quit());
      s.phase = Phase::kQuitting;
    } else if (s.fd >= 0) {
      CloseFd(s, false);
    }
  }
  RunUntil(
      [this] {
        for (const auto& s : sessions_) {
          if (s.fd >= 0) return false;
        }
        return true;
      },
      NowNs() + 3 * kSecond);
  return results;
}

json Driver::Results(const json& memory) {
  json out;
  out["config"] = {{"label", config_.label},
                   {"target", config_.target},
                   {"host", config_.host},
                   {"port", config_.port},
                   {"sessions", config_.sessions},
                   {"rate_per_session", config_.rate},
                   {"warmup_s", config_.warmup_s},
                   {"duration_s", config_.duration_s},
                   {"mix", config_.mix},
                   {"rooms", config_.rooms},
                   {"zipf", config_.zipf},
                   {"seed", config_.seed},
                   {"prefix", config_.prefix},
                   {"login_concurrency", config_.login_concurrency},
                   {"filler_bytes", config_.filler_bytes},
                   {"drop_fraction", config_.drop_fraction},
                   {"drop_every_s", config_.drop_every_s},
                   {"drop_pause_s", config_.drop_pause_s},
                   {"idle_steps", config_.idle_steps},
                   {"accounts_only", config_.accounts_only},
                   {"create", config_.create},
                   {"attack", AttackName(attack_kind_)},
                   {"attack_lead_s", config_.attack_lead_s},
                   {"attack_accounts", config_.attack_accounts},
                   {"attack_retry_s", config_.attack_retry_s}};
  out["meta"] = config_.meta;

  size_t active = 0, failed = 0;
  for (const auto& s : sessions_) {
    active += s.phase == Phase::kActive ? 1 : 0;
    failed += s.phase == Phase::kFailed ? 1 : 0;
  }
  std::vector<size_t> sizes;
  for (const auto& r : rooms_) sizes.push_back(r.size());
  std::sort(sizes.rbegin(), sizes.rend());
  sizes.resize(std::min<size_t>(sizes.size(), 5));
  out["login"] = {{"requested", sessions_.size()},
                  {"active_at_end", active},
                  {"failed", failed},
                  {"failures", failures_},
                  {"seconds", static_cast<double>(login_done_ns_ - login_started_ns_) / 1e9},
                  {"latency", LatencyJson(login_)},
                  {"largest_rooms", sizes}};

  const double window =
      config_.rate > 0 ? static_cast<double>(window_end_ - window_start_) / 1e9 : 0.0;
  uint64_t total_actions = 0;
  json actions = json::object();
  for (size_t k = 0; k < kActionKinds; ++k) {
    actions[ActionName(static_cast<ActionKind>(k))] = actions_[k];
    total_actions += actions_[k];
  }
  out["load"] = {{"window_s", window},
                 {"actions", actions},
                 {"actions_total", total_actions},
                 {"actions_per_s", window > 0 ? static_cast<double>(total_actions) / window : 0},
                 {"skipped_not_connected", skipped_},
                 {"substituted_look", substituted_},
                 {"lines", lines_window_},
                 {"lines_per_s", window > 0 ? static_cast<double>(lines_window_) / window : 0},
                 {"lines_total", lines_total_},
                 {"bytes_total", bytes_total_}};
  out["latency"] = {{"say", LatencyJson(say_)},         {"pose", LatencyJson(pose_)},
                    {"page", LatencyJson(page_)},       {"say_echo", LatencyJson(say_echo_)},
                    {"look", LatencyJson(look_)},       {"move", LatencyJson(move_)},
                    {"replayed", LatencyJson(replay_)}, {"resume", LatencyJson(resume_)}};
  out["deliveries"] = Classify();
  out["reconnect"] = {{"storms", storms_}, {"dropped", drops_}};
  out["load"]["window_start_unix"] = wall_start_;
  out["load"]["window_end_unix"] = wall_end_;
  json measures = json::object();
  for (const auto& [name, command] : config_.measures) {
    const std::string text = RunHook(command, wall_start_, wall_end_);
    try {
      measures[name] = std::stod(text);
    } catch (const std::exception&) {
      measures[name] = text;
    }
  }
  out["measures"] = measures;

  const double loadgen_cpu = CpuSeconds(usage_end_) - CpuSeconds(usage_start_);
  out["loadgen"] = {{"cpu_seconds", loadgen_cpu},
                    {"cpu_util", window > 0 ? loadgen_cpu / window : 0},
                    {"schedule_lag", LatencyJson(lag_)}};

  json servers = json::object();
  if (sampler_) {
    const auto end = sampler_->Now();
    const auto peaks = sampler_->PeakRssKb();
    for (const auto& [name, pid] : config_.watch) {
      const auto& g_end = end.count(name) ? end.at(name) : GroupSample{};
      double cpu = 0;
      if (groups_start_.count(name) && groups_end_.count(name)) {
        cpu = groups_end_.at(name).cpu_seconds - groups_start_.at(name).cpu_seconds;
      }
      servers[name] = {{"pid", pid},
                       {"processes", g_end.processes},
                       {"cpu_seconds", cpu},
                       {"cpu_util", window > 0 ? cpu / window : 0},
                       {"peak_rss_kb", peaks.count(name) ? peaks.at(name) : 0},
                       {"rss_end_kb", g_end.rss_kb},
                       {"pss_end_kb", g_end.pss_kb},
                       {"hwm_sum_kb", g_end.hwm_kb}};
    }
  }
  out["servers"] = servers;
  // Everybody else's CPU during the window: what else the 2 cores were doing.
  double watched_cpu = loadgen_cpu;
  for (const auto& [name, srv] : servers.items()) watched_cpu += srv.value("cpu_seconds", 0.0);
  out["machine"] = {{"busy_cpu_seconds", busy_end_ - busy_start_},
                    {"other_cpu_seconds", std::max(0.0, busy_end_ - busy_start_ - watched_cpu)},
                    {"cpus", sysconf(_SC_NPROCESSORS_ONLN)}};
  out["memory"] = memory;
  if (attack_kind_ != AttackKind::kNone) out["attack"] = AttackJson();
  return out;
}

std::string Fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

std::string LatencyLine(const char* name, const json& l) {
  if (l.value("count", 0) == 0) return "";
  std::ostringstream o;
  o << "  " << std::left << std::setw(14) << name << std::right << " p50 " << Fixed(l["p50_ms"], 3)
    << "  p90 " << Fixed(l["p90_ms"], 3) << "  p99 " << Fixed(l["p99_ms"], 3) << "  p99.9 "
    << Fixed(l["p999_ms"], 3) << "  max " << Fixed(l["max_ms"], 3) << "  (n=" << l["count"]
    << ")\n";
  return o.str();
}

}  // namespace

json RunScenario(const RunConfig& config) {
  Driver driver(config);
  return driver.Run();
}

std::string Summary(const json& r) {
  std::ostringstream o;
  const auto& c = r["config"];
  o << "[" << c["label"].get<std::string>() << "] " << c["target"].get<std::string>() << ": "
    << c["sessions"] << " sessions x " << c["rate_per_session"] << " actions/s, "
    << r["load"]["window_s"] << " s measured, seed " << c["seed"] << "\n";
  const auto& login = r["login"];
  o << "  logins        " << login["active_at_end"] << "/" << login["requested"] << " active, "
    << login["failed"] << " failed, " << Fixed(login["seconds"], 1) << " s to log in\n";
  const auto& load = r["load"];
  if (load["window_s"].get<double>() > 0) {
    o << "  actions       " << load["actions_total"] << " (" << Fixed(load["actions_per_s"], 1)
      << "/s), lines " << load["lines"] << " (" << Fixed(load["lines_per_s"], 0) << "/s), skipped "
      << load["skipped_not_connected"] << "\n";
    o << " latency ms (due time to receipt):\n";
    for (const char* k :
         {"say", "pose", "page", "say_echo", "look", "move", "replayed", "resume"}) {
      o << LatencyLine(k, r["latency"][k]);
    }
    const auto& d = r["deliveries"];
    o << "  deliveries    expected " << d["expected"] << ", received " << d["received"] << ", lost "
      << d["lost"] << ", lost while offline " << d["lost_while_offline"] << ", lost at drop "
      << d["lost_at_drop"] << ", excused (moved) " << d["excused_moved"] << ", duplicates "
      << d["duplicates"] << "\n";
  }
  for (const auto& [name, s] : r["servers"].items()) {
    o << "  " << std::left << std::setw(14) << name << std::right << "cpu "
      << Fixed(s["cpu_seconds"], 2) << " s (" << Fixed(s["cpu_util"].get<double>() * 100, 1)
      << " %), peak rss " << Fixed(s["peak_rss_kb"].get<double>() / 1024, 1) << " MiB, "
      << s["processes"] << " processes\n";
  }
  if (r.contains("attack")) {
    const auto& a = r["attack"];
    o << "  attacker      " << a["kind"].get<std::string>() << " from "
      << a["host"].get<std::string>() << ": " << a["connects"] << " connects, " << a["admitted"]
      << " greeted, " << a["closed_by_server"] << " closed by the server, peak open "
      << a["peak_open"] << ", attempts " << a["attempts"] << ", says " << a["says_sent"]
      << ", commands " << a["commands_sent"] << "\n                replies " << a["replies"].dump()
      << (a["errors"].empty() ? "" : ", errors " + a["errors"].dump())
      << "\n                other lines " << a["other_lines"].dump() << "\n";
  }
  const auto& lg = r["loadgen"];
  o << "  loadgen       cpu " << Fixed(lg["cpu_seconds"], 2) << " s ("
    << Fixed(lg["cpu_util"].get<double>() * 100, 1) << " %), schedule lag p99 "
    << Fixed(lg["schedule_lag"]["p99_ms"], 3) << " ms, max "
    << Fixed(lg["schedule_lag"]["max_ms"], 3) << " ms\n";
  for (const auto& step : r["memory"]["steps"]) {
    o << "  idle step     " << step["sessions"] << " sessions:";
    for (const auto& [name, g] : step["groups"].items()) {
      o << " " << name << " " << Fixed(g["rss_kb"].get<double>() / 1024, 1) << " MiB";
    }
    o << "\n";
  }
  return o.str();
}

}  // namespace holomush::loadgen
