#include "service/gateway_stream.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "events/delivery_batch.hpp"
#include "holomush/common/logging.hpp"

namespace holomush::core {
namespace {

// A gateway that stops reading its stream gets cut off rather than growing our memory; its
// sessions detach and are resumed (with replay) on the stream it opens next.
constexpr size_t kMaxQueuedFrames = 1 << 16;
// A batch is closed at about this size so no message comes near gRPC's 4 MiB receive limit.
constexpr size_t kMaxBatchBytes = 256 * 1024;

pb::ServerMessage Refusal(grpc::StatusCode code, const std::string& message) {
  pb::ServerMessage msg;
  msg.mutable_refused()->set_code(static_cast<int32_t>(code));
  msg.mutable_refused()->set_message(message);
  return msg;
}

class GatewayLink;

// One session's end of a Gateway stream: what CoreSession sends goes onto the stream's queue
// tagged with the handle.
class HandleSink final : public SessionSink {
 public:
  HandleSink(std::shared_ptr<GatewayLink> link, uint64_t handle)
      : link_(std::move(link)), handle_(handle) {}
  void Send(pb::ServerMessage message) override;
  void SendEvent(const EventRecord& event, const std::string& text, bool replayed) override;
  void Close(const std::string& reason) override;
  void Abandon() override;
  uint64_t handle() const { return handle_; }

 private:
  std::shared_ptr<GatewayLink> link_;
  uint64_t handle_;
};

// The state of one Gateway stream, shared by the reactor, the sinks of its sessions and
// pending callbacks. Every call into the reactor goes through here under `mu_` (recursive:
// gRPC may run a reaction inline). `stream_` is cleared in OnDone. Lock order: a session's
// lock may be held when calling in here (Send, Abandon); nothing here calls into a session
// while holding `mu_`.
//
// Writing: one GatewayDown in flight; frames queued meanwhile collect in `pending_` and leave
// together in the next write. Inside a DeliveryBatch (a group of committed events going to
// their recipients) no write starts until the batch ends: the whole group leaves in one
// GatewayDown, and an event rendered alike for several sessions in one frame.
class GatewayLink final : public std::enable_shared_from_this<GatewayLink> {
 public:
  using Reactor = grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown>;

  struct Entry {
    std::shared_ptr<HandleSink> sink;
    std::shared_ptr<CoreSession> session;  // set once open succeeded
    std::vector<std::string> early;        // commands that came before that
  };

  // `max_early`: commands that may wait for a handle whose open is in progress (more could
  // not run anyway: they would be over the session's own backlog once handed over).
  GatewayLink(Reactor* stream, pb::GatewayUp* in, size_t max_early)
      : stream_(stream), in_(in), max_early_(max_early) {}

  void Send(uint64_t handle, pb::ServerMessage message) {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr || finishing_) return;
    if (queued_frames_ >= kMaxQueuedFrames) {
      common::Logger("core").Warn(
          "gateway stream cut off: it stopped reading; its sessions resume on its next stream",
          {{"queued_frames", static_cast<int64_t>(queued_frames_)},
           {"sessions", static_cast<int64_t>(handles_.size())}});
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "stream not being read"));
      return;
    }
    const size_t bytes = message.ByteSizeLong() + 16;
    if (pending_.empty() || pending_bytes_ + bytes > kMaxBatchBytes) {
      pending_.emplace_back();
      pending_bytes_ = 0;
    }
    auto* frame = pending_.back().add_frames();
    frame->add_handles(handle);
    frame->mutable_message()->Swap(&message);
    pending_bytes_ += bytes;
    ++queued_frames_;
    if (writing_ || flush_deferred_) return;
    if (DeliveryBatch::Defer([self = shared_from_this()] { self->FlushDeferred(); })) {
      flush_deferred_ = true;  // the rest of the batch joins this write
      return;
    }
    StartNextWriteLocked();
  }

  // Adds `handle` to a queued frame of this event rendered alike. Only the frames at the end
  // of the queue that carry this event are looked at (the actor's "You say" may sit between
  // two "Ana says"): a session gets an event once, so the handle is in none of them and its
  // order holds. False when there is no such frame: the caller sends a frame of its own.
  bool Share(uint64_t handle, const std::string& event_id, const std::string& text, bool replayed) {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr || finishing_) return true;  // nothing more is sent
    if (pending_.empty()) return false;
    auto& batch = pending_.back();
    for (int i = batch.frames_size() - 1; i >= 0; --i) {
      auto* frame = batch.mutable_frames(i);
      const auto& message = frame->message();
      if (!message.has_event() || message.event().id() != event_id) return false;
      if (message.event().replayed() == replayed && message.event().text() == text) {
        frame->add_handles(handle);
        return true;
      }
    }
    return false;
  }

  // Registers a handle being opened. False when the handle is already in use.
  bool Add(uint64_t handle, std::shared_ptr<HandleSink> sink) {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr || finishing_) return false;
    return handles_.emplace(handle, Entry{.sink = std::move(sink), .session = {}, .early = {}})
        .second;
  }

  // The open of `sink` succeeded. False when the handle was detached meanwhile or the stream
  // is going away (the caller detaches the session); otherwise hands over early commands.
  bool Opened(const HandleSink* sink, std::shared_ptr<CoreSession> session,
              std::vector<std::string>* early) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(sink->handle());
    if (it == handles_.end() || it->second.sink.get() != sink || stream_ == nullptr || finishing_) {
      return false;
    }
    it->second.session = std::move(session);
    early->swap(it->second.early);
    return true;
  }

  enum class Route { kRun, kKept, kFull, kUnknown };
  // Where a command on `handle` goes: to `*session` (kRun), kept until the open completes
  // (kKept; `line` is moved from), or nowhere: too many wait already (kFull) or the handle
  // was never opened (kUnknown).
  Route ForCommand(uint64_t handle, std::string& line, std::shared_ptr<CoreSession>* session) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return Route::kUnknown;
    if (it->second.session) {
      *session = it->second.session;
      return Route::kRun;
    }
    if (it->second.early.size() >= max_early_) return Route::kFull;
    it->second.early.push_back(std::move(line));
    return Route::kKept;
  }

  // Forgets `handle` (if `sink` is still its sink) and returns its entry.
  std::optional<Entry> Release(uint64_t handle, const HandleSink* sink = nullptr) {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end() || (sink != nullptr && it->second.sink.get() != sink)) {
      return std::nullopt;
    }
    Entry entry = std::move(it->second);
    handles_.erase(it);
    return entry;
  }

  void Finish(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }

  void StartRead() {
    std::lock_guard lock(mu_);
    if (stream_ != nullptr && !finishing_) stream_->StartRead(in_);
  }

  void WriteDone(bool ok) {
    std::lock_guard lock(mu_);
    writing_ = false;
    in_flight_.Clear();
    if (!ok && !finishing_) {
      // The peer is gone: nothing more will be written.
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "stream closed"));
    }
    if (stream_ == nullptr) return;
    if (finishing_) {
      if (!finished_) {
        finished_ = true;
        stream_->Finish(final_status_);
      }
      return;
    }
    if (!pending_.empty() && !flush_deferred_) StartNextWriteLocked();
  }

  // The end of the delivery batch that deferred this stream's write.
  void FlushDeferred() {
    std::lock_guard lock(mu_);
    flush_deferred_ = false;
    if (stream_ != nullptr && !finishing_ && !writing_ && !pending_.empty()) {
      StartNextWriteLocked();
    }
  }

  // The reactor is done: returns every session's entry for the caller to detach.
  std::map<uint64_t, Entry> Done() {
    std::lock_guard lock(mu_);
    stream_ = nullptr;
    pending_.clear();
    std::map<uint64_t, Entry> entries;
    entries.swap(handles_);
    return entries;
  }

  grpc::StatusCode final_code() {
    std::lock_guard lock(mu_);
    return final_status_.error_code();
  }

 private:
  void StartNextWriteLocked() {
    in_flight_.Swap(&pending_.front());
    pending_.pop_front();
    if (pending_.empty()) pending_bytes_ = 0;
    queued_frames_ -= static_cast<size_t>(in_flight_.frames_size());
    writing_ = true;
    stream_->StartWrite(&in_flight_);
  }

  // Ends the stream; what was not yet written is dropped (the sessions detach and their
  // events are replayed from the database when the gateway resumes them).
  void FinishLocked(const grpc::Status& status) {
    if (finishing_) return;
    finishing_ = true;
    final_status_ = status;
    pending_.clear();
    queued_frames_ = 0;
    if (!writing_ && !finished_ && stream_ != nullptr) {
      finished_ = true;
      stream_->Finish(status);
    }
  }

  std::recursive_mutex mu_;
  Reactor* stream_;
  pb::GatewayUp* in_;
  const size_t max_early_;
  std::map<uint64_t, Entry> handles_;
  pb::GatewayDown in_flight_;
  std::deque<pb::GatewayDown> pending_;
  size_t pending_bytes_ = 0;  // of pending_.back()
  size_t queued_frames_ = 0;
  bool writing_ = false;
  bool flush_deferred_ = false;  // a delivery batch starts the next write at its end
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

void HandleSink::Send(pb::ServerMessage message) { link_->Send(handle_, std::move(message)); }

void HandleSink::SendEvent(const EventRecord& event, const std::string& text, bool replayed) {
  if (link_->Share(handle_, event.id, text, replayed)) return;
  link_->Send(handle_, EventMessage(event, text, replayed));
}

void HandleSink::Close(const std::string& reason) {
  pb::ServerMessage msg;
  msg.mutable_closed()->set_reason(reason);
  link_->Send(handle_, std::move(msg));
  (void)link_->Release(handle_, this);
}

void HandleSink::Abandon() {
  link_->Send(handle_, Refusal(grpc::StatusCode::ABORTED, "session opened on another stream"));
  (void)link_->Release(handle_, this);
}

// One Gateway stream: reads batches of frames and hands each to its session.
class GatewayStream final : public grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown> {
 public:
  explicit GatewayStream(GameService& service)
      : service_(service),
        link_(std::make_shared<GatewayLink>(
            this, &in_,
            static_cast<size_t>(std::max(service.game().options().flood.max_pending, 0)))) {
    link_->StartRead();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The gateway closed its side or the connection dropped: the sessions linger.
      link_->Finish(grpc::Status::OK);
      return;
    }
    for (auto& frame : *in_.mutable_frames()) {
      switch (frame.kind_case()) {
        case pb::UpFrame::kOpen:
          Open(frame.handle(), frame.open());
          break;
        case pb::UpFrame::kCommand:
          Command(frame.handle(), std::move(*frame.mutable_command()->mutable_line()));
          break;
        case pb::UpFrame::kDetach:
          if (auto entry = link_->Release(frame.handle()); entry && entry->session) {
            service_.game().Detach(entry->session, entry->sink.get());
          }
          break;
        default:
          break;
      }
    }
    in_.Clear();
    link_->StartRead();
  }

  void OnWriteDone(bool ok) override { link_->WriteDone(ok); }

  void OnCancel() override { link_->Finish(grpc::Status::CANCELLED); }

  void OnDone() override {
    for (auto& [handle, entry] : link_->Done()) {
      if (entry.session) service_.game().Detach(entry.session, entry.sink.get());
    }
    delete this;
  }

 private:
  void Command(uint64_t handle, std::string line) {
    std::shared_ptr<CoreSession> session;
    switch (link_->ForCommand(handle, line, &session)) {
      case GatewayLink::Route::kRun:
        Submit(service_, session, std::move(line));
        return;
      case GatewayLink::Route::kKept:
        return;  // submitted when the open completes
      case GatewayLink::Route::kFull: {
        // Answered at once, as the session's strand answers a command over its backlog; the
        // kept ones run after `opened`.
        service_.metrics().CommandRefused("backlog");
        pb::ServerMessage msg;
        msg.mutable_output()->set_text(kServerBusy);
        link_->Send(handle, std::move(msg));
        return;
      }
      case GatewayLink::Route::kUnknown:
        link_->Send(handle, Refusal(grpc::StatusCode::FAILED_PRECONDITION,
                                    "the first frame of a handle must be open"));
        return;
    }
  }

  static void Submit(GameService& service, const std::shared_ptr<CoreSession>& session,
                     std::string line) {
    const auto start = std::chrono::steady_clock::now();
    auto* metrics = &service.metrics();
    service.game().Submit(session, std::move(line), [metrics, start] {
      metrics->GrpcLatency("Gateway", std::chrono::steady_clock::now() - start);
    });
  }

  void Open(uint64_t handle, const pb::OpenSession& open) {
    auto sink = std::make_shared<HandleSink>(link_, handle);
    if (!link_->Add(handle, sink)) {
      link_->Send(handle, Refusal(grpc::StatusCode::INVALID_ARGUMENT, "handle already in use"));
      return;
    }
    auto link = link_;
    GameService& service = service_;
    service_.game().OpenSession(
        open, sink,
        [link, sink, &service](const std::shared_ptr<CoreSession>& session, int replayed) {
          // Runs on the session's strand, before the replayed events are sent. Touches only
          // the shared link: the reactor may already be gone.
          std::vector<std::string> early;
          if (!link->Opened(sink.get(), session, &early)) {
            service.game().Detach(session, sink.get());
            return;
          }
          pb::ServerMessage msg;
          auto* opened = msg.mutable_opened();
          const auto character = session->character();
          opened->mutable_character()->set_id(character.id);
          opened->mutable_character()->set_name(character.name);
          opened->set_resumed(replayed > 0);
          opened->set_replayed_events(replayed);
          const FloodLimits& flood = service.game().options().flood;
          opened->set_command_rate(flood.rate);
          opened->set_command_burst(AdvertisedBurst(flood));
          sink->Send(std::move(msg));
          for (auto& line : early) Submit(service, session, std::move(line));
        },
        [link, sink](const common::Error& error) {
          if (!link->Release(sink->handle(), sink.get())) return;
          const auto status = ToGrpcStatus(error);
          link->Send(sink->handle(), Refusal(status.error_code(), status.error_message()));
        });
  }

  GameService& service_;
  std::shared_ptr<GatewayLink> link_;
  pb::GatewayUp in_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace

grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown>* NewGatewayStream(GameService& service) {
  return new GatewayStream(service);
}

}  // namespace holomush::core
