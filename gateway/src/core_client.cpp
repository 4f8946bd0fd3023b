#include "core_client.hpp"

#include <grpcpp/create_channel.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/client_callback.h>

#include <deque>

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

// One Session stream. Owns itself from Begin until OnDone (gRPC's rule for reactors); the
// session holding the returned pointer may let go at any time.
//
// Writes come from the session's strand (outside reactions), so the stream holds a "hold"
// until the read side has ended: gRPC cannot reach OnDone while a write might still start.
class GrpcSessionStream final
    : public grpc::ClientBidiReactor<v1::ClientMessage, v1::ServerMessage>,
      public SessionStream {
 public:
  // Commands queued towards core beyond this are dropped (a player pasting megabytes).
  static constexpr size_t kMaxQueuedWrites = 512;

  GrpcSessionStream(std::shared_ptr<SessionStreamHandler> handler, CallTracker& tracker)
      : handler_(std::move(handler)), tracker_(tracker) {}

  void Begin(v1::Game::Stub& stub, const v1::OpenSession& open,
             std::shared_ptr<GrpcSessionStream> self) {
    if (!tracker_.Add(&context_)) {
      handler_->OnDone(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is shutting down"));
      return;
    }
    self_ = std::move(self);
    stub.async()->Session(&context_, this);
    v1::ClientMessage first;
    *first.mutable_open() = open;
    writes_.push_back(std::move(first));
    writing_ = true;
    StartWrite(&writes_.front());
    StartRead(&read_);
    AddHold();
    StartCall();
  }

  bool SendCommand(std::string line) override {
    std::lock_guard lock(mu_);
    if (read_done_ || write_failed_ || writes_.size() >= kMaxQueuedWrites) return false;
    v1::ClientMessage message;
    message.mutable_command()->set_line(std::move(line));
    writes_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      StartWrite(&writes_.front());
    }
    return true;
  }

  void Cancel() override { context_.TryCancel(); }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writes_.pop_front();
    if (!ok) write_failed_ = true;
    if (write_failed_ || read_done_ || writes_.empty()) {
      writing_ = false;
      if (write_failed_) writes_.clear();
      return;
    }
    StartWrite(&writes_.front());
  }

  void OnReadDone(bool ok) override {
    if (ok) {
      handler_->OnMessage(std::move(read_));
      read_.Clear();
      StartRead(&read_);
      return;
    }
    {
      std::lock_guard lock(mu_);
      read_done_ = true;
    }
    RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    handler_->OnDone(status);
    tracker_.Remove(&context_);
    // Last statement: this may delete the stream.
    self_.reset();
  }

 private:
  std::shared_ptr<SessionStreamHandler> handler_;
  CallTracker& tracker_;
  grpc::ClientContext context_;
  v1::ServerMessage read_;
  std::mutex mu_;  // guards the write side, touched by the session's strand and gRPC
  std::deque<v1::ClientMessage> writes_;  // front is in flight while writing_
  bool writing_ = false;
  bool write_failed_ = false;
  bool read_done_ = false;
  std::shared_ptr<GrpcSessionStream> self_;
};

}  // namespace

GrpcCoreClient::GrpcCoreClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(v1::Game::NewStub(channel_)) {}

GrpcCoreClient::~GrpcCoreClient() { Shutdown(std::chrono::seconds(5)); }

std::shared_ptr<grpc::Channel> GrpcCoreClient::MakeChannel(
    const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
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

std::shared_ptr<SessionStream> GrpcCoreClient::OpenSession(
    const v1::OpenSession& open, std::shared_ptr<SessionStreamHandler> handler) {
  auto stream = std::make_shared<GrpcSessionStream>(std::move(handler), tracker_);
  stream->Begin(*stub_, open, stream);
  return stream;
}

void GrpcCoreClient::Shutdown(std::chrono::milliseconds timeout) {
  tracker_.CancelAll();
  tracker_.WaitIdle(timeout);
}

}  // namespace holomush::gateway
