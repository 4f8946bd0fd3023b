#include "core_client.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_callback.h>

#include <algorithm>
#include <deque>
#include <map>
#include <vector>

namespace holomush::gateway {

bool CallTracker::Add(grpc::ClientContext* context) {
  std::lock_guard lock(mu_);
  if (closed_) return false;
  calls_.insert(context);
  return true;
}

void CallTracker::Remove(grpc::ClientContext* context) {
  std::lock_guard lock(mu_);
  calls_.erase(context);
  if (calls_.empty()) idle_.notify_all();
}

void CallTracker::CancelAll() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto* context : calls_) context->TryCancel();
}

bool CallTracker::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, timeout, [this] { return calls_.empty(); });
}

size_t CallTracker::size() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

namespace {

template <typename Request, typename Reply, typename Start>
void Unary(CallTracker& tracker, Request request, CoreApi::Done<Reply> done, Start start) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Reply reply;
  };
  auto call = std::make_shared<Call>();
  call->request = std::move(request);
  call->context.set_deadline(std::chrono::system_clock::now() + GrpcCoreClient::kUnaryDeadline);
  if (!tracker.Add(&call->context)) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"), Reply{});
    return;
  }
  start(&call->context, &call->request, &call->reply,
        [call, &tracker, done = std::move(done)](grpc::Status status) {
          done(status, std::move(call->reply));
          tracker.Remove(&call->context);
        });
}

}  // namespace

// A batch is closed at about this size so no message comes near gRPC's 4 MiB receive limit.
constexpr size_t kMaxBatchBytes = 256 * 1024;

// One Gateway stream carrying many sessions, each under a handle (a counter of this stream).
// Owns itself from Begin until OnDone (gRPC's rule for reactors); the sessions holding it
// may let go at any time.
//
// Writes come from the sessions' strands (outside reactions), so the stream holds a "hold"
// until the read side has ended: gRPC cannot reach OnDone while a write might still start.
// One GatewayUp is in flight; frames queued meanwhile leave together in the next write.
class MuxStream final : public grpc::ClientBidiReactor<v1::GatewayUp, v1::GatewayDown>,
                        public std::enable_shared_from_this<MuxStream> {
 public:
  explicit MuxStream(CallTracker& tracker) : tracker_(tracker) {}

  // False when the gateway is shutting down: the stream did not start.
  bool Begin(v1::Game::Stub& stub) {
    if (!tracker_.Add(&context_)) return false;
    self_ = shared_from_this();
    stub.async()->Gateway(&context_, this);
    StartRead(&read_);
    AddHold();
    StartCall();
    return true;
  }

  // Registers `receiver` under a new handle and queues its `open`; nullptr when this stream
  // can no longer be used (the caller opens a new one).
  std::shared_ptr<SessionHandle> Open(const v1::OpenSession& open,
                                      std::shared_ptr<SessionReceiver> receiver);

  bool SendCommand(uint64_t handle, std::string line) {
    std::lock_guard lock(mu_);
    if (ended()) return false;
    auto it = sessions_.find(handle);
    if (it == sessions_.end() || it->second.queued >= GrpcCoreClient::kMaxQueuedCommands) {
      return false;
    }
    ++it->second.queued;
    v1::UpFrame frame;
    frame.set_handle(handle);
    frame.mutable_command()->set_line(std::move(line));
    QueueLocked(std::move(frame));
    return true;
  }

  void Detach(uint64_t handle) {
    std::shared_ptr<SessionReceiver> receiver;
    {
      std::lock_guard lock(mu_);
      auto it = sessions_.find(handle);
      if (it == sessions_.end()) return;
      receiver = std::move(it->second.receiver);
      sessions_.erase(it);
      if (!ended()) {
        v1::UpFrame frame;
        frame.set_handle(handle);
        frame.mutable_detach();
        QueueLocked(std::move(frame));
      }
    }
    receiver->OnDone(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the gateway"));
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    in_flight_.Clear();
    if (!ok) write_failed_ = true;
    if (write_failed_ || read_done_ || pending_.empty()) {
      writing_ = false;
      if (write_failed_) pending_.clear();
      return;
    }
    StartNextWriteLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        std::lock_guard lock(mu_);
        read_done_ = true;
      }
      RemoveHold();
      return;
    }
    std::vector<std::shared_ptr<SessionReceiver>> to;
    for (auto& frame : *read_.mutable_frames()) {
      const auto kind = frame.message().kind_case();
      // `closed` and `refused` end the session: its handle is forgotten.
      const bool last = kind == v1::ServerMessage::kClosed || kind == v1::ServerMessage::kRefused;
      to.clear();
      {
        std::lock_guard lock(mu_);
        for (const uint64_t handle : frame.handles()) {
          auto it = sessions_.find(handle);
          if (it == sessions_.end()) continue;  // detached by us meanwhile
          to.push_back(last ? std::move(it->second.receiver) : it->second.receiver);
          if (last) sessions_.erase(it);
        }
      }
      if (to.empty()) continue;
      if (kind == v1::ServerMessage::kRefused) {
        const auto& refused = frame.message().refused();
        const grpc::Status status(static_cast<grpc::StatusCode>(refused.code()), refused.message());
        for (const auto& receiver : to) receiver->OnDone(status);
        continue;
      }
      // Every recipient reads the one message taken out of the frame: no copy per session.
      auto message = std::make_shared<v1::ServerMessage>();
      message->Swap(frame.mutable_message());
      const SharedServerMessage shared = std::move(message);
      for (const auto& receiver : to) {
        receiver->OnMessage(shared);
        if (last) receiver->OnDone(grpc::Status::OK);
      }
    }
    read_.Clear();
    StartRead(&read_);
  }

  void OnDone(const grpc::Status& status) override {
    std::map<uint64_t, Session> sessions;
    {
      std::lock_guard lock(mu_);
      done_ = true;
      sessions.swap(sessions_);
    }
    // Every session still here was cut off with the stream; each resumes on its own.
    for (auto& [handle, session] : sessions) session.receiver->OnDone(status);
    tracker_.Remove(&context_);
    // Last statement: this may delete the stream.
    self_.reset();
  }

 private:
  struct Session {
    std::shared_ptr<SessionReceiver> receiver;
    size_t queued = 0;  // commands waiting behind the write in flight
  };

  bool ended() const { return done_ || read_done_ || write_failed_; }

  void QueueLocked(v1::UpFrame frame) {
    const size_t bytes = frame.ByteSizeLong() + 8;
    if (pending_.empty() || pending_bytes_ + bytes > kMaxBatchBytes) {
      pending_.emplace_back();
      pending_bytes_ = 0;
    }
    pending_.back().add_frames()->Swap(&frame);
    pending_bytes_ += bytes;
    if (!writing_) StartNextWriteLocked();
  }

  void StartNextWriteLocked() {
    in_flight_.Swap(&pending_.front());
    pending_.pop_front();
    if (pending_.empty()) pending_bytes_ = 0;
    for (const auto& frame : in_flight_.frames()) {
      if (!frame.has_command()) continue;
      if (auto it = sessions_.find(frame.handle()); it != sessions_.end()) --it->second.queued;
    }
    writing_ = true;
    StartWrite(&in_flight_);
  }

  CallTracker& tracker_;
  grpc::ClientContext context_;
  v1::GatewayDown read_;
  std::mutex mu_;  // guards what follows, touched by the sessions' strands and gRPC
  std::map<uint64_t, Session> sessions_;
  uint64_t next_handle_ = 0;
  v1::GatewayUp in_flight_;
  std::deque<v1::GatewayUp> pending_;
  size_t pending_bytes_ = 0;  // of pending_.back()
  bool writing_ = false;
  bool write_failed_ = false;
  bool read_done_ = false;
  bool done_ = false;
  std::shared_ptr<MuxStream> self_;
};

namespace {

// What a PlayerSession holds: its handle on a shared stream.
class MuxSession final : public SessionHandle {
 public:
  MuxSession(std::shared_ptr<MuxStream> stream, uint64_t handle)
      : stream_(std::move(stream)), handle_(handle) {}
  bool SendCommand(std::string line) override {
    return stream_->SendCommand(handle_, std::move(line));
  }
  void Cancel() override { stream_->Detach(handle_); }

 private:
  std::shared_ptr<MuxStream> stream_;
  uint64_t handle_;
};

// The handle given when no stream could be started: it refuses everything.
class DeadSession final : public SessionHandle {
 public:
  bool SendCommand(std::string) override { return false; }
  void Cancel() override {}
};

}  // namespace

std::shared_ptr<SessionHandle> MuxStream::Open(const v1::OpenSession& open,
                                               std::shared_ptr<SessionReceiver> receiver) {
  std::lock_guard lock(mu_);
  if (ended()) return nullptr;
  const uint64_t handle = ++next_handle_;
  sessions_.emplace(handle, Session{.receiver = std::move(receiver), .queued = 0});
  v1::UpFrame frame;
  frame.set_handle(handle);
  *frame.mutable_open() = open;
  QueueLocked(std::move(frame));
  return std::make_shared<MuxSession>(shared_from_this(), handle);
}

GrpcCoreClient::GrpcCoreClient(std::shared_ptr<grpc::Channel> channel, int streams)
    : channel_(std::move(channel)),
      stub_(v1::Game::NewStub(channel_)),
      streams_(static_cast<size_t>(std::max(streams, 1))) {}

GrpcCoreClient::~GrpcCoreClient() { Shutdown(std::chrono::seconds(5)); }

std::shared_ptr<grpc::Channel> GrpcCoreClient::MakeChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Batches stay near 256 KiB, but one output can be larger than that on its own.
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, std::move(credentials), args);
}

void GrpcCoreClient::CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) {
  Unary(tracker_, std::move(credentials), std::move(done),
        [this](auto* context, auto* request, auto* reply, auto callback) {
          stub_->async()->CreateAccount(context, request, reply, std::move(callback));
        });
}

void GrpcCoreClient::Login(v1::Credentials credentials, Done<v1::LoginReply> done) {
  Unary(tracker_, std::move(credentials), std::move(done),
        [this](auto* context, auto* request, auto* reply, auto callback) {
          stub_->async()->Login(context, request, reply, std::move(callback));
        });
}

void GrpcCoreClient::StartSession(v1::StartSessionRequest request,
                                  Done<v1::StartSessionReply> done) {
  Unary(tracker_, std::move(request), std::move(done),
        [this](auto* context, auto* req, auto* reply, auto callback) {
          stub_->async()->StartSession(context, req, reply, std::move(callback));
        });
}

void GrpcCoreClient::Who(Done<v1::WhoReply> done) {
  Unary(tracker_, v1::WhoRequest{}, std::move(done),
        [this](auto* context, auto* request, auto* reply, auto callback) {
          stub_->async()->Who(context, request, reply, std::move(callback));
        });
}

std::shared_ptr<SessionHandle> GrpcCoreClient::OpenSession(
    const v1::OpenSession& open, std::shared_ptr<SessionReceiver> receiver) {
  {
    std::lock_guard lock(mu_);
    auto& slot = streams_[next_stream_++ % streams_.size()];
    if (slot) {
      if (auto handle = slot->Open(open, receiver)) return handle;
    }
    // No stream there yet, or it ended: its sessions reopen one by one, and the first one
    // to come back starts the new stream.
    auto stream = std::make_shared<MuxStream>(tracker_);
    if (stream->Begin(*stub_)) {
      slot = stream;
      if (auto handle = stream->Open(open, receiver)) return handle;
    }
  }
  receiver->OnDone(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"));
  return std::make_shared<DeadSession>();
}

void GrpcCoreClient::Shutdown(std::chrono::milliseconds timeout) {
  tracker_.CancelAll();
  tracker_.WaitIdle(timeout);
}

}  // namespace holomush::gateway
