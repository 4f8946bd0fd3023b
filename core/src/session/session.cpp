#include "session/session.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "game/render.hpp"
#include "holomush/common/ulid.hpp"

namespace holomush::core {
namespace {

constexpr int kReplayLimit = 5000;

}  // namespace

pb::ServerMessage EventMessage(const EventRecord& event, const std::string& text, bool replayed) {
  pb::ServerMessage msg;
  auto* e = msg.mutable_event();
  e->set_id(event.id);
  e->set_stream(event.stream);
  e->set_type(event.type);
  e->set_actor_id(event.actor_id);
  e->set_actor_name(event.actor_name);
  e->set_payload_json(event.payload_json.empty() ? event.payload.dump() : event.payload_json);
  e->set_unix_millis(event.unix_millis);
  e->set_text(text);
  e->set_replayed(replayed);
  return msg;
}

void SessionSink::SendEvent(const EventRecord& event, const std::string& text, bool replayed) {
  Send(EventMessage(event, text, replayed));
}

CoreSession::Admission CoreSession::AdmitCommand(const FloodLimits& limits,
                                                 std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(flood_mu_);
  if (!command_bucket_) command_bucket_.emplace(limits.rate, limits.burst);
  if (pending_commands_ >= limits.max_pending) return Admission::kBacklogged;
  if (!command_bucket_->TryTake(now)) return Admission::kTooFast;
  ++pending_commands_;
  return Admission::kAdmitted;
}

void CoreSession::CommandDone() {
  std::lock_guard lock(flood_mu_);
  --pending_commands_;
}

std::string CharacterStream(const std::string& id) { return "character:" + id; }
std::string LocationStream(const std::string& id) { return "location:" + id; }

CoreSession::CoreSession(SessionRecord record, Player player, Character character, ListenHub& hub,
                         EventStore& events, boost::asio::any_io_executor executor)
    : record_(std::move(record)),
      player_(std::move(player)),
      hub_(hub),
      events_(events),
      strand_(boost::asio::make_strand(executor)),
      character_(std::move(character)),
      detached_since_(std::chrono::steady_clock::now()) {}

CoreSession::~CoreSession() = default;

Character CoreSession::character() const {
  std::lock_guard lock(mu_);
  return character_;
}

std::vector<std::string> CoreSession::StreamsLocked() const {
  return {LocationStream(character_.location_id), CharacterStream(character_.id), kSystemStream};
}

void CoreSession::Subscribe() {
  std::vector<std::string> streams;
  {
    std::lock_guard lock(mu_);
    streams = StreamsLocked();
  }
  for (const auto& s : streams) hub_.Subscribe(s, shared_from_this());
}

void CoreSession::UnsubscribeAll() {
  std::vector<std::string> streams;
  {
    std::lock_guard lock(mu_);
    streams = StreamsLocked();
  }
  for (const auto& s : streams) hub_.Unsubscribe(s, this);
}

void CoreSession::SetLocation(const std::string& location_id) {
  std::string old;
  {
    std::lock_guard lock(mu_);
    old = character_.location_id;
    character_.location_id = location_id;
  }
  if (old == location_id) return;
  hub_.Subscribe(LocationStream(location_id), shared_from_this());
  hub_.Unsubscribe(LocationStream(old), this);
}

void CoreSession::SendEventLocked(const EventRecord& event, bool replayed) {
  if (!recent_.Insert(event.id)) return;
  if (event.id > last_id_) last_id_ = event.id;
  const std::string& text = RenderEventOnce(event, character_.id);
  if (text.empty() || !sink_) return;
  sink_->SendEvent(event, text, replayed);
}

void CoreSession::Deliver(const EventRecord& event) {
  if (event.type == "boot" && event.stream == CharacterStream(record_.character_id)) {
    if (on_boot_) Post(on_boot_);
    return;
  }
  std::lock_guard lock(mu_);
  if (!sink_) return;  // detached: the event is in the database for the replay on resume
  if (replaying_) {
    buffered_.push_back(event);
    return;
  }
  SendEventLocked(event, false);
}

Result<int> CoreSession::Replay(const std::string& after_id,
                                const std::function<void(int)>& before_replay) {
  std::vector<std::string> streams;
  {
    std::lock_guard lock(mu_);
    replaying_ = true;
    buffered_.clear();
    streams = StreamsLocked();
  }
  auto missed = events_.ReadAfter(streams, after_id, kReplayLimit);
  int count = 0;
  if (missed) {
    {
      std::lock_guard lock(mu_);
      for (const auto& e : *missed) {
        if (!recent_.Contains(e.id) && !RenderEvent(e, character_.id).empty()) ++count;
      }
    }
    // Outside the lock: the callback sends `opened` and may look at the session. Live events
    // arriving meanwhile are buffered, so the order on the stream stays right.
    if (before_replay) before_replay(count);
  }
  std::lock_guard lock(mu_);
  if (missed) {
    for (const auto& e : *missed) SendEventLocked(e, true);
  }
  for (const auto& e : buffered_) SendEventLocked(e, false);
  buffered_.clear();
  replaying_ = false;
  if (!missed) return missed.error();
  return count;
}

Result<int> CoreSession::Attach(std::shared_ptr<SessionSink> sink, const std::string& last_event_id,
                                const std::function<void(int)>& before_replay) {
  std::string after = last_event_id;
  {
    std::lock_guard lock(mu_);
    if (sink_ && sink_ != sink) sink_->Abandon();
    sink_ = std::move(sink);
    // A new stream starts a new dedupe window: what went into an old stream may never have
    // reached the player, so only the gateway's last id says what was seen.
    recent_.Clear();
    if (after.empty() || !common::IsUlid(after)) {
      // Nothing seen on any connection: everything since the session began.
      after = common::UlidFloor(static_cast<uint64_t>(record_.created_unix_millis));
    }
  }
  return Replay(after, before_replay);
}

bool CoreSession::Detach(const SessionSink* sink) {
  std::lock_guard lock(mu_);
  if (sink_.get() != sink) return false;
  sink_.reset();
  detached_since_ = std::chrono::steady_clock::now();
  return true;
}

bool CoreSession::attached() const {
  std::lock_guard lock(mu_);
  return sink_ != nullptr;
}

std::chrono::steady_clock::time_point CoreSession::detached_since() const {
  std::lock_guard lock(mu_);
  return detached_since_;
}

void CoreSession::Resync() {
  Post([self = shared_from_this()] {
    std::string after;
    {
      std::lock_guard lock(self->mu_);
      if (!self->sink_) return;
      after = self->last_id_;
    }
    if (!after.empty()) (void)self->Replay(after, {});
  });
}

void CoreSession::Output(const std::string& text) {
  std::lock_guard lock(mu_);
  if (!sink_) return;
  pb::ServerMessage msg;
  msg.mutable_output()->set_text(text);
  sink_->Send(std::move(msg));
}

void CoreSession::Close(const std::string& reason) {
  std::shared_ptr<SessionSink> sink;
  {
    std::lock_guard lock(mu_);
    sink = std::move(sink_);
  }
  if (sink) sink->Close(reason);
}

void CoreSession::Post(std::function<void()> fn) { boost::asio::post(strand_, std::move(fn)); }

}  // namespace holomush::core
