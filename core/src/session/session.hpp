// A player's embodied session in this core process: subscriptions, delivery, replay.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "events/listen_hub.hpp"
#include "holomush/common/recent_ids.hpp"
#include "holomush/common/token_bucket.hpp"
#include "holomush/core/v1/core.pb.h"
#include "store/store.hpp"

namespace holomush::core {

namespace pb = ::holomush::core::v1;

// Where a session's messages go: its handle on the Gateway stream it is attached to.
class SessionSink {
 public:
  virtual ~SessionSink() = default;
  virtual void Send(pb::ServerMessage message) = 0;
  // Sends `event` as this session renders it. By default builds the message and sends it; a
  // sink may instead let sessions that render an event alike share one copy.
  virtual void SendEvent(const EventRecord& event, const std::string& text, bool replayed);
  // Sends `closed` with the reason and ends the stream once it is written.
  virtual void Close(const std::string& reason) = 0;
  // Ends the stream without a `closed` message (another connection took the session over).
  virtual void Abandon() = 0;
};

// Flood control per session: commands per second with a burst, and how many may wait on the
// session's strand.
struct FloodLimits {
  double rate = 10.0;
  double burst = 60.0;
  int max_pending = 32;
};

// What a player is told when a command is refused because too many of theirs wait.
inline constexpr const char* kServerBusy = "The server is busy, try again in a moment.";

// The burst core tells a gateway to pace to: its own less up to a second's worth of
// commands (at least 1 is left), kept back as slack. Paced lines can still reach core
// bunched (the gateway batches what queued while a write was in flight, threads get
// scheduled late), and the slack absorbs that instead of refusing a line the player typed
// in time.
inline double AdvertisedBurst(const FloodLimits& limits) {
  const double slack = std::min(limits.rate, limits.burst - 1.0);
  return slack > 0 ? limits.burst - slack : limits.burst;
}

// Shared by the registry, the hub (weakly) and the stream. Commands run one at a time on the
// session's strand; delivery (listener thread) and sends take `mu_` briefly, never block.
class CoreSession : public EventSubscriber, public std::enable_shared_from_this<CoreSession> {
 public:
  CoreSession(SessionRecord record, Player player, Character character, ListenHub& hub,
              EventStore& events, boost::asio::any_io_executor executor);
  ~CoreSession() override;

  const std::string& id() const { return record_.id; }
  const SessionRecord& record() const { return record_; }
  const Player& player() const { return player_; }
  Character character() const;
  // Moves the character's subscription to another location's stream.
  void SetLocation(const std::string& location_id);
  void Subscribe();
  void UnsubscribeAll();

  // Attaches the stream and replays what happened after `last_event_id` (or since the
  // session began when empty), then delivers live. `before_replay(n)` runs just before the
  // n replayed events are sent (the stream's `opened` goes first). Returns n.
  Result<int> Attach(std::shared_ptr<SessionSink> sink, const std::string& last_event_id,
                     const std::function<void(int)>& before_replay = {});
  // Detaches `sink` if it is still the attached one; returns whether it was.
  bool Detach(const SessionSink* sink);
  bool attached() const;

  void Output(const std::string& text);
  void Close(const std::string& reason);
  // Runs `fn` on the session's strand, after the commands already queued.
  void Post(std::function<void()> fn);

  std::chrono::steady_clock::time_point detached_since() const;
  // A command ran; the next lease renewal records it (who's idle time).
  void MarkActive() { active_ = true; }
  bool TakeActive() { return active_.exchange(false); }
  // Whether one more command may be queued now (thread-safe; any thread). An admitted
  // command calls CommandDone once it has run.
  enum class Admission { kAdmitted, kTooFast, kBacklogged };
  Admission AdmitCommand(const FloodLimits& limits, std::chrono::steady_clock::time_point now);
  void CommandDone();
  // Called for "boot" events addressed to this character (set by the game).
  void OnBoot(std::function<void()> handler) { on_boot_ = std::move(handler); }

  // EventSubscriber
  void Deliver(const EventRecord& event) override;
  void Resync() override;

 private:
  std::vector<std::string> StreamsLocked() const;
  void SendEventLocked(const EventRecord& event, bool replayed);
  Result<int> Replay(const std::string& after_id, const std::function<void(int)>& before_replay);

  SessionRecord record_;
  Player player_;
  ListenHub& hub_;
  EventStore& events_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::function<void()> on_boot_;
  std::atomic<bool> active_{false};

  std::mutex flood_mu_;  // the gate below: Submit runs on gRPC threads, CommandDone on the strand
  std::optional<common::TokenBucket> command_bucket_;
  int pending_commands_ = 0;

  mutable std::mutex mu_;
  Character character_;
  std::shared_ptr<SessionSink> sink_;
  bool replaying_ = false;
  std::vector<EventRecord> buffered_;
  std::string last_id_;  // newest event id delivered or replayed
  common::RecentIds recent_;
  std::chrono::steady_clock::time_point detached_since_;
};

// The `event` message a session receives.
pb::ServerMessage EventMessage(const EventRecord& event, const std::string& text, bool replayed);

std::string CharacterStream(const std::string& character_id);
std::string LocationStream(const std::string& location_id);
inline constexpr const char* kSystemStream = "system";

}  // namespace holomush::core
