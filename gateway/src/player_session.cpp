#include "player_session.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>

#include "text.hpp"

namespace holomush::gateway {
namespace {

// Codes after which reopening the same session cannot succeed.
bool Permanent(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::ABORTED:  // core: "session opened on another stream"
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string DescribeCoreError(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return std::string(text::kUnavailable);
    default:
      if (!status.error_message().empty()) return status.error_message();
      return "Something went wrong in the game (code " +
             std::to_string(static_cast<int>(status.error_code())) + "). Please try again.";
  }
}

// Hands one stream's callbacks (gRPC threads) to the session's strand.
class PlayerSession::Handler final : public SessionReceiver {
 public:
  Handler(std::weak_ptr<PlayerSession> session, boost::asio::any_io_executor executor,
          uint64_t generation)
      : session_(std::move(session)), executor_(std::move(executor)), generation_(generation) {}

  void OnMessage(SharedServerMessage message) override {
    boost::asio::post(executor_, [s = session_, g = generation_, m = std::move(message)] {
      if (auto session = s.lock()) session->OnServerMessage(g, *m);
    });
  }
  void OnDone(const grpc::Status& status) override {
    boost::asio::post(executor_, [s = session_, g = generation_, status] {
      if (auto session = s.lock()) session->OnStreamDone(g, status);
    });
  }

 private:
  std::weak_ptr<PlayerSession> session_;
  boost::asio::any_io_executor executor_;
  uint64_t generation_;
};

PlayerSession::PlayerSession(boost::asio::any_io_executor executor, SessionDeps deps,
                             ClientPort* port, SessionOptions options)
    : executor_(std::move(executor)),
      deps_(deps),
      port_(port),
      options_(options),
      backoff_(options.reconnect_initial),
      reconnect_timer_(executor_),
      rng_(std::random_device{}()) {}

PlayerSession::~PlayerSession() {
  // Normally Detach() ran; this keeps the gauge right if a connection forgot.
  if (counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Decrement();
}

void PlayerSession::Begin() { Say(text::kBanner); }

bool PlayerSession::logged_in() const {
  return phase_ == Phase::kPlaying || phase_ == Phase::kReconnecting ||
         (phase_ == Phase::kClosed && !session_id_.empty());
}

void PlayerSession::Log(std::string_view msg, common::LogFields fields) const {
  if (deps_.log != nullptr) deps_.log->Info(msg, fields);
}

void PlayerSession::Say(std::string_view text) {
  if (port_ != nullptr) port_->SendText(text);
}

void PlayerSession::CloseWith(std::string_view text, CloseReason reason) {
  EndSession();
  phase_ = Phase::kClosed;
  if (port_ != nullptr) port_->Close(text, reason);
}

void PlayerSession::OnLine(std::string line) {
  switch (phase_) {
    case Phase::kClosed:
      return;
    case Phase::kPassword: {
      if (port_ != nullptr) port_->SetEcho(true);
      if (line.empty()) {
        Say("No password given.");
        Idle(Phase::kWelcome);
        return;
      }
      Authenticate(pending_create_, pending_username_, line);
      return;
    }
    case Phase::kWelcome:
    case Phase::kChoosing:
      HandlePreLogin(line);
      return;
    case Phase::kBusy:
    case Phase::kStarting:
      Queue(std::move(line));
      return;
    case Phase::kPlaying:
      if (!opened_) {
        Queue(std::move(line));
      } else {
        SendToCore(std::move(line));
      }
      return;
    case Phase::kReconnecting:
      // The one command that makes sense without core: leaving.
      if (Lower(line) == "quit") {
        CloseWith(text::kGoodbye, CloseReason::kQuit);
        return;
      }
      Queue(std::move(line));
      return;
  }
}

void PlayerSession::Queue(std::string line) {
  if (queued_.size() >= options_.max_queued_lines) {
    if (!queue_overflow_told_) {
      Say("Please wait; your earlier commands have not been handled yet.");
      queue_overflow_told_ = true;
    }
    return;
  }
  queued_.push_back(std::move(line));
}

void PlayerSession::Idle(Phase phase) {
  phase_ = phase;
  DrainQueue();
}

void PlayerSession::DrainQueue() {
  queue_overflow_told_ = false;
  // Each line may start a request that makes us busy again: stop there, keep the rest.
  while (!queued_.empty() &&
         (phase_ == Phase::kWelcome || phase_ == Phase::kChoosing || phase_ == Phase::kPassword ||
          (phase_ == Phase::kPlaying && opened_))) {
    std::string line = std::move(queued_.front());
    queued_.pop_front();
    OnLine(std::move(line));
  }
}

std::string PlayerSession::resume_key() const {
  return ResumeMemory::Key(player_id_, character_.id());
}

void PlayerSession::Embody(const v1::CharacterSummary& character) {
  character_ = character;
  std::optional<ResumePoint> point;
  if (deps_.resume != nullptr && !player_id_.empty()) point = deps_.resume->Take(resume_key());
  if (!point) {
    StartSession();
    return;
  }
  session_id_ = point->session_id;
  resume_token_ = point->resume_token;
  last_event_id_ = point->last_event_id;
  resuming_ = true;
  if (!counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Increment();
  counted_ = true;
  phase_ = Phase::kPlaying;
  OpenStream();
}

void PlayerSession::ResumeFromClient(std::string session_id, std::string resume_token,
                                     std::string last_event_id) {
  if (phase_ != Phase::kWelcome) {
    Say(logged_in() ? "You are already in the game." : "Finish logging in first.");
    return;
  }
  session_id_ = std::move(session_id);
  resume_token_ = std::move(resume_token);
  last_event_id_ = std::move(last_event_id);
  resuming_ = true;
  client_resume_ = true;
  if (!counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Increment();
  counted_ = true;
  phase_ = Phase::kPlaying;
  OpenStream();
}

void PlayerSession::StartSession() {
  phase_ = Phase::kStarting;
  v1::StartSessionRequest request;
  request.set_login_token(login_token_);
  request.set_character_name(character_.name());
  deps_.core->StartSession(std::move(request),
                           [self = weak_from_this(), ex = executor_](const grpc::Status& status,
                                                                     v1::StartSessionReply reply) {
                             boost::asio::post(ex, [self, status, reply = std::move(reply)] {
                               auto session = self.lock();
                               if (session && session->phase_ == Phase::kStarting) {
                                 session->OnSessionStarted(status, reply);
                               }
                             });
                           });
}

void PlayerSession::OnSessionStarted(const grpc::Status& status,
                                     const v1::StartSessionReply& reply) {
  const Phase back = characters_.size() > 1 ? Phase::kChoosing : Phase::kWelcome;
  if (!status.ok()) {
    Say(DescribeCoreError(status));
    Idle(back);
    return;
  }
  if (!reply.message().empty() || reply.session_id().empty()) {
    Say(reply.message().empty() ? "Could not start the session." : reply.message());
    Idle(back);
    return;
  }
  session_id_ = reply.session_id();
  resume_token_ = reply.resume_token();
  if (reply.has_character()) character_ = reply.character();
  login_token_.clear();
  characters_.clear();
  last_event_id_.clear();
  if (!counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Increment();
  counted_ = true;
  phase_ = Phase::kPlaying;
  OpenStream();
}

void PlayerSession::OpenStream() {
  opened_ = false;
  v1::OpenSession open;
  open.set_session_id(session_id_);
  open.set_resume_token(resume_token_);
  open.set_last_event_id(last_event_id_);
  open.set_protocol(ProtocolName(options_.protocol));
  auto handler = std::make_shared<Handler>(weak_from_this(), executor_, ++generation_);
  stream_ = deps_.core->OpenSession(open, std::move(handler));
}

void PlayerSession::OnServerMessage(uint64_t generation, const v1::ServerMessage& message) {
  if (generation != generation_ || phase_ == Phase::kClosed) return;
  switch (message.kind_case()) {
    case v1::ServerMessage::kOpened: {
      const bool after_break = phase_ == Phase::kReconnecting;
      if (message.opened().has_character()) character_ = message.opened().character();
      Log(after_break ? "session reopened after a broken link"
          : resuming_ ? "session resumed"
                      : "session started",
          {{"session_id", session_id_},
           {"character", character_.name()},
           {"protocol", ProtocolName(options_.protocol)},
           {"replayed_events", message.opened().replayed_events()}});
      opened_ = true;
      if (!pace_ && message.opened().command_rate() > 0 && message.opened().command_burst() >= 1) {
        pace_.emplace(message.opened().command_rate(), message.opened().command_burst());
      }
      // A session that starts now (not one taken back) begins with who you are and where.
      const bool fresh = !after_break && !resuming_;
      if (resuming_) {
        resuming_ = false;
        client_resume_ = false;
        login_token_.clear();
        characters_.clear();
      }
      backoff_ = options_.reconnect_initial;
      phase_ = Phase::kPlaying;
      if (port_ != nullptr) port_->SessionOpened(session_id_, resume_token_, character_.name());
      if (fresh) {
        Say(created_ ? "Your account is made. Welcome to HoloMUSH, " + character_.name() + "!"
                     : "Welcome back, " + character_.name() + ".");
        created_ = false;
        SendToCore("look");
      }
      DrainQueue();
      return;
    }
    case v1::ServerMessage::kOutput:
      Say(message.output().text());
      return;
    case v1::ServerMessage::kEvent: {
      const v1::Event& event = message.event();
      if (!event.id().empty()) {
        if (!recent_ids_.Insert(event.id())) return;  // already shown before a resume
        if (event.id() > last_event_id_) last_event_id_ = event.id();
      }
      if (port_ != nullptr) port_->SendEvent(event);
      return;
    }
    case v1::ServerMessage::kClosed: {
      const std::string reason = message.closed().reason().empty() ? std::string(text::kGoodbye)
                                                                   : message.closed().reason();
      // The session is over in core: nothing to resume.
      session_id_.clear();
      CloseWith(reason, CloseReason::kSessionEnded);
      return;
    }
    case v1::ServerMessage::kRefused:  // the core client reports it as OnStreamDone's status
    case v1::ServerMessage::KIND_NOT_SET:
      return;
  }
}

void PlayerSession::OnStreamDone(uint64_t generation, const grpc::Status& status) {
  if (generation != generation_) return;
  stream_.reset();
  if (phase_ == Phase::kClosed) return;
  if (resuming_ && !opened_ && Permanent(status.error_code())) {
    // The session this character left behind is gone (ended or expired): start afresh.
    resuming_ = false;
    session_id_.clear();
    resume_token_.clear();
    last_event_id_.clear();
    if (counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Decrement();
    counted_ = false;
    if (client_resume_) {
      // Nothing to start it from: the client logs in again. Lines it sent meanwhile were
      // meant for the old session, not for the login prompt.
      client_resume_ = false;
      queued_.clear();
      if (port_ != nullptr) port_->ResumeRefused(text::kResumeRefused);
      Idle(Phase::kWelcome);
      return;
    }
    StartSession();
    return;
  }
  if (Permanent(status.error_code())) {
    session_id_.clear();
    const std::string why = status.error_code() == grpc::StatusCode::ABORTED
                                ? "This character was taken over by another connection."
                                : "Your session has ended" + (status.error_message().empty()
                                                                  ? std::string(".")
                                                                  : ": " + status.error_message());
    CloseWith(why, CloseReason::kSessionEnded);
    return;
  }
  // Core went away (restart, network): keep the player, reopen from the last event seen.
  if (phase_ != Phase::kReconnecting) {
    phase_ = Phase::kReconnecting;
    Say(text::kReconnecting);
  }
  opened_ = false;
  ScheduleReconnect();
}

void PlayerSession::ScheduleReconnect() {
  // Full jitter around the current step, so a thousand players do not return at once.
  std::uniform_int_distribution<int64_t> jitter(backoff_.count() / 2, backoff_.count() * 3 / 2);
  const std::chrono::milliseconds delay(jitter(rng_));
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([self = weak_from_this()](const boost::system::error_code& ec) {
    auto session = self.lock();
    if (ec || !session || session->phase_ != Phase::kReconnecting) return;
    if (session->deps_.metrics != nullptr) session->deps_.metrics->core_reconnects().Increment();
    session->OpenStream();
  });
}

std::chrono::steady_clock::duration PlayerSession::InputDelay(
    std::chrono::steady_clock::time_point now) const {
  if (phase_ != Phase::kPlaying || !pace_) return std::chrono::steady_clock::duration::zero();
  return pace_->UntilToken(now);
}

void PlayerSession::SendToCore(std::string line) {
  // Lines held back by the connection arrive when a token is there; the gateway's own
  // (the first look, lines typed while reconnecting) take one when they can.
  if (pace_) pace_->TryTake(std::chrono::steady_clock::now());
  if (stream_ == nullptr || !stream_->SendCommand(std::move(line))) {
    Say("The game did not take that command; please try again.");
  }
}

void PlayerSession::EndSession() {
  if (counted_) {
    Log("session left", {{"session_id", session_id_},
                         {"character", character_.name()},
                         {"resumable", !session_id_.empty()}});
  }
  if (stream_ != nullptr) {
    stream_->Cancel();
    stream_.reset();
  }
  ++generation_;  // late callbacks of the old stream are ignored
  reconnect_timer_.cancel();
  if (!session_id_.empty() && !player_id_.empty() && deps_.resume != nullptr) {
    deps_.resume->Remember(resume_key(), {session_id_, resume_token_, last_event_id_});
  }
  if (counted_ && deps_.metrics != nullptr) deps_.metrics->sessions_active().Decrement();
  counted_ = false;
}

void PlayerSession::Detach() {
  if (phase_ != Phase::kClosed) EndSession();
  phase_ = Phase::kClosed;
  port_ = nullptr;
  queued_.clear();
}

}  // namespace holomush::gateway
