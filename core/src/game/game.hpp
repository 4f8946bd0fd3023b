// The game: accounts, sessions and every command of SPEC §4, over the store interfaces.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core_metrics.hpp"
#include "events/event_writer.hpp"
#include "events/listen_hub.hpp"
#include "game/alias_cache.hpp"
#include "holomush/common/logging.hpp"
#include "session/registry.hpp"
#include "store/store.hpp"

namespace holomush::core {

struct Stores {
  AccountStore& accounts;
  WorldStore& world;
  AliasStore& aliases;
  SessionStore& sessions;
  EventStore& events;
};

struct GameOptions {
  double exit_match_threshold = 0.3;
  std::chrono::seconds session_linger{600};
  int max_login_failures = 7;
  std::chrono::seconds lock_duration{15 * 60};
};

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

  Result<pb::LoginReply> CreateAccount(const std::string& username, const std::string& password);
  Result<pb::LoginReply> Login(const std::string& username, const std::string& password);
  Result<pb::StartSessionReply> StartSession(const std::string& login_token,
                                             const std::string& character_name);
  Result<pb::WhoReply> Who();

  // Verifies the resume token, attaches `sink` and replays. `opened` runs on the session's
  // strand once the session is known, with it and the number of events about to be
  // replayed, before they are sent; `refused` runs instead when the session cannot open.
  void OpenSession(const pb::OpenSession& open, std::shared_ptr<SessionSink> sink,
                   std::function<void(const std::shared_ptr<CoreSession>&, int replayed)> opened,
                   std::function<void(const common::Error&)> refused);
  // Queues a typed line on the session's strand; `done` runs after it (for latency metrics).
  void Submit(const std::shared_ptr<CoreSession>& session, std::string line,
              std::function<void()> done);
  // The stream went away; the session lingers for options.session_linger.
  void Detach(const std::shared_ptr<CoreSession>& session, const SessionSink* sink);
  // Renews the leases of this process's attached sessions and ends sessions that lingered
  // too long (called every few seconds, well inside the 30 s lease).
  void ExpireSessions();

  // Exposed for tests: what a command line does, synchronously on the caller's thread.
  void Execute(const std::shared_ptr<CoreSession>& session, const std::string& line);

 private:
  using Handler = void (Game::*)(CoreSession&, const std::string& args);
  static const std::map<std::string, Handler>& Handlers();

  void Append(CoreSession& s, const std::string& stream, const std::string& type,
              nlohmann::json payload);
  void AppendSystem(const std::string& stream, const std::string& type, const Character& actor,
                    nlohmann::json payload);
  std::string DescribeLocation(const std::string& location_id);
  void EndSession(CoreSession& s, const std::string& reason, bool announce);
  bool Allowed(CoreSession& s, const std::string& command, bool admin_only);
  Result<pb::LoginReply> IssueLogin(const Player& player);

  void Look(CoreSession& s, const std::string& args);
  void Say(CoreSession& s, const std::string& args);
  void Pose(CoreSession& s, const std::string& args);
  void SemiPose(CoreSession& s, const std::string& args);
  void Emit(CoreSession& s, const std::string& args);
  void Page(CoreSession& s, const std::string& args);
  void Go(CoreSession& s, const std::string& args);
  // Moves the character through `exit`: leave and arrive events, then the new room.
  void MoveThrough(CoreSession& s, const Exit& exit);
  void WhoCommand(CoreSession& s, const std::string& args);
  void Help(CoreSession& s, const std::string& args);
  void Alias(CoreSession& s, const std::string& args);
  void Unalias(CoreSession& s, const std::string& args);
  void Aliases(CoreSession& s, const std::string& args);
  void SysAlias(CoreSession& s, const std::string& args);
  void SysUnalias(CoreSession& s, const std::string& args);
  void SysAliases(CoreSession& s, const std::string& args);
  void Dig(CoreSession& s, const std::string& args);
  void Link(CoreSession& s, const std::string& args);
  void Describe(CoreSession& s, const std::string& args);
  void Boot(CoreSession& s, const std::string& args);
  void Wall(CoreSession& s, const std::string& args);
  void Shutdown(CoreSession& s, const std::string& args);
  void Quit(CoreSession& s, const std::string& args);

  Stores stores_;
  EventWriter& writer_;
  ListenHub& hub_;
  SessionRegistry& registry_;
  CoreMetrics& metrics_;
  boost::asio::any_io_executor executor_;
  GameOptions options_;
  std::function<void()> request_shutdown_;
  AliasCache aliases_;
  common::Logger log_{"core"};
};

// Player-facing validation (pure).
bool ValidUsername(const std::string& name);
// "mary  jane" -> "Mary Jane"; nullopt unless 2-32 letters and single spaces.
std::optional<std::string> NormalizeCharacterName(const std::string& name);
bool ValidAliasName(const std::string& name);

}  // namespace holomush::core
