// The game: what every command shares, the dispatcher, and the entry points the gRPC
// service calls. Accounts, session lifecycle and the commands live in their own units.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core_metrics.hpp"
#include "events/event_writer.hpp"
#include "events/listen_hub.hpp"
#include "game/accounts.hpp"
#include "game/alias_cache.hpp"
#include "game/announcer.hpp"
#include "game/presence_cache.hpp"
#include "game/session_lifecycle.hpp"
#include "game/stores.hpp"
#include "game/world_cache.hpp"
#include "holomush/common/logging.hpp"
#include "session/registry.hpp"

namespace holomush::core {

struct GameOptions {
  double exit_match_threshold = 0.3;
  std::chrono::seconds session_linger{600};
  LoginBackoff login_backoff;
  FloodLimits flood;
};

// What a player sees when the database does not answer.
inline constexpr const char* kUnavailable =
    "The game cannot reach its database right now; try again.";
// The longest say, pose, page, emit or description.
inline constexpr size_t kMaxMessage = 4000;

// Thread-safe: account calls run on any pool thread; a session's commands run on its strand.
class Game {
 public:
  Game(Stores stores, EventWriter& writer, ListenHub& hub, SessionRegistry& registry,
       CoreMetrics& metrics, boost::asio::any_io_executor executor, GameOptions options,
       std::function<void()> request_shutdown);

  static bool IsCommand(const std::string& word);

  // Loads every alias from the database into the cache (start-up, and after the listener
  // reconnects).
  common::Status LoadAliases();
  // A holomush_aliases notification from any replica.
  void OnAliasNotify(const std::string& payload);
  AliasCache& aliases() { return aliases_; }
  // Locations and exits, kept; a holomush_world notification from any replica forgets one.
  WorldCache& world() { return world_; }
  // Who is present where, kept; arrivals, departures, logins and quits forget a location.
  PresenceCache& presence() { return presence_; }

  Result<pb::LoginReply> CreateAccount(const std::string& username, const std::string& password) {
    return accounts_.Create(username, password);
  }
  // `address` is where the player connects from (failed logins back off per account and
  // address).
  Result<pb::LoginReply> Login(const std::string& username, const std::string& password,
                               const std::string& address = "") {
    return accounts_.Login(username, password, address);
  }
  Result<pb::StartSessionReply> StartSession(const std::string& login_token,
                                             const std::string& character_name) {
    return sessions_.Start(login_token, character_name);
  }
  Result<std::vector<WhoRow>> Who() { return sessions_.Who(); }

  // See SessionLifecycle::Open.
  void OpenSession(const pb::OpenSession& open, std::shared_ptr<SessionSink> sink,
                   std::function<void(const std::shared_ptr<CoreSession>&, int replayed)> opened,
                   std::function<void(const common::Error&)> refused) {
    sessions_.Open(open, std::move(sink), std::move(opened), std::move(refused));
  }
  // Queues a typed line on the session's strand; `done` runs after it (for latency metrics).
  void Submit(const std::shared_ptr<CoreSession>& session, std::string line,
              std::function<void()> done);
  void Detach(const std::shared_ptr<CoreSession>& session, const SessionSink* sink) {
    sessions_.Detach(session, sink);
  }
  void ExpireSessions() { sessions_.Expire(); }

  // What a command line does, synchronously on the caller's thread (the session's strand).
  void Execute(const std::shared_ptr<CoreSession>& session, const std::string& line);

  // ---- shared by the command families ----
  Stores& stores() { return stores_; }
  const GameOptions& options() const { return options_; }
  CoreMetrics& metrics() { return metrics_; }
  common::Logger& log() { return log_; }
  SessionLifecycle& sessions() { return sessions_; }
  // Appends an event by `s`'s character; the actor hears if it could not be stored.
  void Append(CoreSession& s, const std::string& stream, const std::string& type,
              nlohmann::json payload);
  // Name, description, exits and who is here, as `look` shows it (from the world and
  // presence caches).
  std::string DescribeLocation(const std::string& location_id);
  void RequestShutdown() {
    if (request_shutdown_) request_shutdown_();
  }

 private:
  Stores stores_;
  CoreMetrics& metrics_;
  GameOptions options_;
  std::function<void()> request_shutdown_;
  common::Logger log_{"core"};
  AliasCache aliases_;
  WorldCache world_;
  PresenceCache presence_;
  Announcer announcer_;
  Accounts accounts_;
  SessionLifecycle sessions_;
};

}  // namespace holomush::core
