// What telnet and WebSocket connections share: limits, the registry of live connections
// (connection limit, shutdown), and the environment each connection is built with.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "holomush/common/logging.hpp"
#include "metrics.hpp"
#include "player_session.hpp"
#include "web_static.hpp"

namespace holomush::gateway {

struct ConnectionLimits {
  size_t max_line_bytes = 4096;
  // Bytes queued to one client (including the write in flight) before it is dropped.
  size_t output_limit_bytes = 256 * 1024;
  // After login, no input for this long closes the connection; 0 disables.
  std::chrono::milliseconds idle_timeout{std::chrono::hours(2)};
  // Before login, the connection is closed after this; 0 disables.
  std::chrono::milliseconds login_timeout{std::chrono::minutes(5)};
  // After a farewell, how long a client gets to read it before the socket is cut.
  std::chrono::milliseconds close_linger{std::chrono::seconds(3)};
  // A WebSocket silent for half of this is pinged; silent for all of it, closed.
  std::chrono::milliseconds websocket_keepalive{std::chrono::seconds(60)};
  // On the web port: how long a request (the first, or the next on a kept-alive
  // connection) and a WebSocket handshake may take to arrive.
  std::chrono::milliseconds http_request_timeout{std::chrono::seconds(10)};
};

// A live client connection, as the registry sees it. Thread-safe entry points only.
class ClientConnection {
 public:
  virtual ~ClientConnection() = default;
  // Tells the player `text` and closes; posts to the connection's strand.
  virtual void Shutdown(std::string text) = 0;
};

// How many client connections the gateway holds at once.
struct ConnectionCaps {
  size_t total = 2000;
  size_t per_address = 0;  // from one address (0: no limit; loopback is never limited)
  size_t prelogin = 0;     // not logged in yet, every address together (0: no limit)
};

// Every live client connection of the gateway, both protocols. Thread-safe.
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(ConnectionCaps caps) : caps_(caps) {}

  enum class Admit { kOk, kFull, kAddressFull, kLoginsFull, kStopping };
  // Reserves a slot for a new connection from `address` (it starts not logged in); Add()
  // must follow kOk.
  Admit Reserve(const std::string& address);
  // Gives back a slot reserved for `address` that never became a connection.
  void Release(const std::string& address);
  // Registers a connection in a reserved slot; it calls Remove() when it has closed.
  void Add(ClientConnection* connection, std::weak_ptr<ClientConnection> handle,
           const std::string& address);
  // The connection's player has logged in: it no longer counts against `max_prelogin`.
  void LoggedIn(ClientConnection* connection);
  void Remove(ClientConnection* connection);

  // Refuses new connections and tells every live one `text`.
  void ShutdownAll(const std::string& text);
  // True when every connection has closed within `timeout`.
  bool WaitEmpty(std::chrono::milliseconds timeout);
  size_t size() const;
  size_t prelogin() const;
  size_t max() const { return caps_.total; }

 private:
  struct Live {
    std::weak_ptr<ClientConnection> handle;
    std::string address;
    bool logged_in = false;
  };
  void ReleaseLocked(const std::string& address, bool logged_in);

  ConnectionCaps caps_;
  mutable std::mutex mu_;
  std::condition_variable empty_;
  size_t count_ = 0;     // reserved or registered
  size_t prelogin_ = 0;  // of those, not logged in
  bool stopping_ = false;
  std::unordered_map<ClientConnection*, Live> live_;
  std::unordered_map<std::string, size_t> per_address_;  // reserved or registered; no zeros
};

// Built once by the gateway; every connection keeps a reference.
struct ConnectionEnv {
  ConnectionLimits limits;
  SessionDeps deps;
  SessionOptions session;  // protocol is set per connection
  GatewayMetrics* metrics = nullptr;
  ConnectionRegistry* registry = nullptr;
  common::Logger log{"gateway"};
  // The web port: files served at / (none: every path but /ws is 404) and the origins a
  // browser's WebSocket may come from (empty: only the page's own, Origin host == Host).
  std::span<const WebAsset> web_assets;
  std::vector<std::string> allowed_origins;
};

// The protocol-independent life of a client connection: the player session it owns, login
// and idle timeouts, closing with a farewell (bounded by a linger), metrics and the registry.
// Subclasses supply the transport. Everything runs on the connection's strand `executor`.
class ConnectionBase : public ClientConnection,
                       public ClientPort,
                       public std::enable_shared_from_this<ConnectionBase> {
 public:
  ConnectionBase(boost::asio::any_io_executor executor, const ConnectionEnv& env,
                 Protocol protocol);
  ~ConnectionBase() override;

  const boost::asio::any_io_executor& executor() const { return executor_; }
  void Shutdown(std::string text) override;
  void Close(std::string_view text, CloseReason reason) override;
  // Counts the player as logged in (the registry's pre-login limit), then tells the
  // transport (OnSessionOpened).
  void SessionOpened(std::string_view session_id, std::string_view resume_token,
                     std::string_view character) final;

 protected:
  virtual void OnSessionOpened(std::string_view /*session_id*/, std::string_view /*resume_token*/,
                               std::string_view /*character*/) {}
  // Creates the session, greets the player and arms the timeouts (once the transport is up).
  void StartSession();
  // A line the player typed (cleaned). Past core's pace for the session it is held, and
  // goes when its turn comes; the transport reads no more meanwhile (ReadNext), so a player
  // typing faster than the game takes commands is slowed by TCP, never refused, and what
  // waits here is at most one read's worth.
  void OnInputLine(std::string line);
  // Where the transport would start its next read: starts it now (StartRead), or, while
  // lines are held, once they have gone.
  void ReadNext();
  virtual void StartRead() = 0;
  // The client asks for a session it was given before (WebSocket `resume`).
  void OnResume(std::string session_id, std::string resume_token, std::string last_event_id);
  // Closes at once, without a farewell (the client is gone or not reading).
  void Abort(CloseReason reason);
  // The transport wrote everything queued: a closing connection can finish now.
  void OnOutputDrained();
  // The common start of a read or write completion: counts the bytes, and on an error closes
  // (the client is gone). False when the transport should stop there.
  bool ReadCompleted(const boost::system::error_code& ec, size_t bytes);
  bool WriteCompleted(const boost::system::error_code& ec, size_t bytes);

  // Transport: queue the farewell, say whether output is drained, close the socket.
  virtual void QueueFarewell(std::string_view text) = 0;
  virtual bool OutputDrained() const = 0;
  virtual void CloseTransport() = 0;

  bool closing() const { return closing_; }
  // Why the connection is closing (valid once closing()).
  CloseReason close_reason() const { return reason_; }
  bool finished() const { return finished_; }
  const ConnectionEnv& env() const { return env_; }
  void set_remote(std::string remote) { remote_ = std::move(remote); }

 private:
  void ArmTimer();
  void OnTimer();
  void ArmPace();
  void OnPace();
  void Finish();

  boost::asio::any_io_executor executor_;
  const ConnectionEnv& env_;
  Protocol protocol_;
  GatewayMetrics::PerProtocol* metrics_;
  std::shared_ptr<PlayerSession> session_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer pace_timer_;
  std::deque<std::string> held_;  // lines waiting for their turn (core's pace)
  bool pace_armed_ = false;
  bool read_paused_ = false;  // the transport's next read waits for held_ to empty
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_input_;
  std::string remote_;
  bool closing_ = false;
  bool finished_ = false;
  CloseReason reason_ = CloseReason::kClientGone;
};

// 127.0.0.0/8 and ::1: this machine's own tools and proxies, never limited per address.
bool IsLoopback(const std::string& address);

// A refusal in the protocol's own bytes: `text` (one of the texts below) for `why`.
using RenderRefusal = std::string (*)(ConnectionRegistry::Admit why, std::string_view text);

// Decides on a freshly accepted socket: its peer address when it may become a connection (a
// registry slot is reserved for it; Add it next); otherwise writes the refusal (the game is
// full, too many players are logging in, or too many connections come from that address),
// closes it and counts it.
std::optional<std::string> AdmitConnection(const ConnectionEnv& env, Protocol protocol,
                                           boost::asio::ip::tcp::socket& socket,
                                           RenderRefusal refusal);

inline constexpr std::string_view kFullText =
    "Sorry, the game is full right now. Please try again in a few minutes.";
inline constexpr std::string_view kAddressFullText =
    "Too many connections from your address. Close one and try again.";
inline constexpr std::string_view kLoginsFullText =
    "Too many players are logging in right now. Please try again in a moment.";
inline constexpr std::string_view kShutdownText =
    "The game's gateway is restarting. Please reconnect in a moment.";

}  // namespace holomush::gateway
