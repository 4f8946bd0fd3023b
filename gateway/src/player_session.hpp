// One player's conversation with the game, whatever the protocol: the pre-login commands,
// then a resumable Session stream to core that survives core restarts.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core_api.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/common/recent_ids.hpp"
#include "holomush/common/token_bucket.hpp"
#include "metrics.hpp"
#include "resume_memory.hpp"

namespace holomush::gateway {

class LoginThrottle;

// The client side of a session: a telnet or WebSocket connection. Called only on the
// connection's strand, by the session that connection owns.
class ClientPort {
 public:
  virtual ~ClientPort() = default;
  // Text for the player; lines separated by \n, no trailing newline needed.
  virtual void SendText(std::string_view text) = 0;
  virtual void SendEvent(const v1::Event& event) = 0;
  // A prompt that waits on the same line (telnet: no line end).
  virtual void SendPrompt(std::string_view text) = 0;
  // false while a password is typed: the client should not show the input.
  virtual void SetEcho(bool echo) = 0;
  // Sends `text` (if any) as the last words, then closes the connection.
  virtual void Close(std::string_view text, CloseReason reason) = 0;
  // The game session is open (again). A client that resumes by itself (the browser) keeps
  // the id and token; telnet has no use for them.
  virtual void SessionOpened(std::string_view /*session_id*/, std::string_view /*resume_token*/,
                             std::string_view /*character*/) {}
  // The client's own resume (ResumeFromClient) was refused: `text` says why; log in again.
  virtual void ResumeRefused(std::string_view /*text*/) {}
};

// What every session of one gateway shares. Outlives the sessions.
struct SessionDeps {
  CoreApi* core = nullptr;
  ResumeMemory* resume = nullptr;
  GatewayMetrics* metrics = nullptr;    // optional
  const common::Logger* log = nullptr;  // optional
  LoginThrottle* throttle = nullptr;    // optional: per-address login and creation limits
};

struct SessionOptions {
  Protocol protocol = Protocol::kTelnet;
  // Where the player connects from (an IP address), sent with logins.
  std::string client_address;
  // Reopening a broken stream: jittered exponential backoff between these.
  std::chrono::milliseconds reconnect_initial{200};
  std::chrono::milliseconds reconnect_max{5000};
  // Lines typed while a reply or a reconnect is pending are kept (in order) up to this.
  size_t max_queued_lines = 64;
};

namespace text {
inline constexpr std::string_view kBanner =
    "Welcome to HoloMUSH!\n"
    "\n"
    "  create <username> <password>   make an account and a character of that name\n"
    "  connect <username> <password>  log in\n"
    "  who                            see who is connected\n"
    "  quit                           leave\n";
inline constexpr std::string_view kUnknown = "Unknown command. Try 'help'.";
inline constexpr std::string_view kReconnecting =
    "[The connection to the game was interrupted. Reconnecting...]";
inline constexpr std::string_view kUnavailable =
    "The game is not available right now. Please try again in a moment.";
inline constexpr std::string_view kGoodbye = "Goodbye.";
inline constexpr std::string_view kResumeRefused =
    "Your earlier session has ended. Please log in again.";
}  // namespace text

// Owned by its connection (shared_ptr, so callbacks can hold a weak_ptr); every method runs
// on the connection's strand `executor`. gRPC completions are posted there, tagged with the
// stream generation so a late message from an abandoned stream is ignored.
class PlayerSession : public std::enable_shared_from_this<PlayerSession> {
 public:
  PlayerSession(boost::asio::any_io_executor executor, SessionDeps deps, ClientPort* port,
                SessionOptions options);
  ~PlayerSession();
  PlayerSession(const PlayerSession&) = delete;
  PlayerSession& operator=(const PlayerSession&) = delete;

  // Greets the player.
  void Begin();
  // One line the player typed (already cleaned).
  void OnLine(std::string line);
  // Before login: takes back a session this client was given on an earlier connection (to
  // this or another gateway process), replaying events after `last_event_id`. If core
  // refuses, the client hears ResumeRefused and may log in.
  void ResumeFromClient(std::string session_id, std::string resume_token,
                        std::string last_event_id);
  // The connection is gone (or going): stop the stream, remember where the player was.
  void Detach();

  // How long the player's next line must wait to keep to core's pace for this session
  // (zero: it may go now). Only lines for the game wait; nothing before login does.
  std::chrono::steady_clock::duration InputDelay(std::chrono::steady_clock::time_point now) const;
  // A game session exists (playing or reconnecting to core).
  bool logged_in() const;
  bool reconnecting() const { return phase_ == Phase::kReconnecting; }
  const std::string& session_id() const { return session_id_; }
  // Where a dropped connection's session is remembered (player and character).
  std::string resume_key() const;
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  enum class Phase {
    kWelcome,       // before login: create, connect, who, quit
    kPassword,      // waiting for the password of create/connect
    kBusy,          // a pre-login request is with core
    kChoosing,      // logged in, several characters: play <name>
    kStarting,      // StartSession is with core
    kPlaying,       // stream open
    kReconnecting,  // stream broke; reopening with backoff
    kClosed,
  };
  class Handler;

  void HandlePreLogin(const std::string& line);
  void Authenticate(bool create, const std::string& username, const std::string& password);
  void OnLoginReply(bool create, const grpc::Status& status, const v1::LoginReply& reply);
  void ChooseCharacter(const std::string& name);
  // Resumes the session this character left behind on this gateway, or starts a new one.
  void Embody(const v1::CharacterSummary& character);
  void StartSession();
  void OnSessionStarted(const grpc::Status& status, const v1::StartSessionReply& reply);
  void OnWho(const grpc::Status& status, const v1::WhoReply& reply);
  void OpenStream();
  void OnServerMessage(uint64_t generation, const v1::ServerMessage& message);
  void OnStreamDone(uint64_t generation, const grpc::Status& status);
  void ScheduleReconnect();
  void SendToCore(std::string line);
  void Queue(std::string line);
  // Back to an idle pre-login phase; then replays lines typed meanwhile.
  void Idle(Phase phase);
  void DrainQueue();
  void EndSession();
  void Say(std::string_view text);
  void Log(std::string_view msg, common::LogFields fields) const;
  void CloseWith(std::string_view text, CloseReason reason);

  boost::asio::any_io_executor executor_;
  SessionDeps deps_;
  ClientPort* port_;  // null once detached
  SessionOptions options_;
  Phase phase_ = Phase::kWelcome;
  std::deque<std::string> queued_;
  bool queue_overflow_told_ = false;

  // Pre-login.
  bool pending_create_ = false;
  std::string pending_username_;
  std::string login_token_;
  std::string player_id_;
  std::vector<v1::CharacterSummary> characters_;
  v1::CharacterSummary character_;  // the one being embodied

  // The game session.
  std::string session_id_;
  std::string resume_token_;
  std::string last_event_id_;
  bool counted_ = false;  // in holomush_gateway_sessions_active
  std::shared_ptr<SessionHandle> stream_;
  // Core's flood control for this session (from `opened`): the lines we send keep to it.
  std::optional<common::TokenBucket> pace_;
  uint64_t generation_ = 0;
  bool opened_ = false;
  // Reopening a session left behind by an earlier connection: if core no longer has it,
  // a new session is started instead.
  bool resuming_ = false;
  // The session being reopened was named by the client (ResumeFromClient): there is no login
  // to fall back on if core no longer has it.
  bool client_resume_ = false;
  // The account was made by this login (create): the first words in the game say so.
  bool created_ = false;
  // Ids of recent events delivered: a replay overlapping what we showed is not shown twice.
  common::RecentIds recent_ids_;
  std::chrono::milliseconds backoff_;
  boost::asio::steady_timer reconnect_timer_;
  std::minstd_rand rng_;
};

// How a failed call to core reads to a player.
std::string DescribeCoreError(const grpc::Status& status);

}  // namespace holomush::gateway
