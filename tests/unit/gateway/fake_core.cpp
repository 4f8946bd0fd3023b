#include "fake_core.hpp"

#include <cctype>
#include <cstdio>

namespace holomush::gateway::fakes {

// Every method is called with FakeCore::mu_ held, except the SessionHandle entry points.
class FakeCore::Stream : public SessionHandle {
 public:
  Stream(FakeCore& core, std::shared_ptr<SessionReceiver> handler, std::string session_id)
      : core_(core), handler_(std::move(handler)), session_id_(std::move(session_id)) {}

  bool SendCommand(std::string line) override {
    std::lock_guard lock(core_.mu_);
    if (done_) return false;
    core_.Execute(session_id_, line);
    return true;
  }
  void Cancel() override {
    std::lock_guard lock(core_.mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by the gateway"));
  }

  void SendLocked(v1::ServerMessage message) {
    if (!done_) handler_->OnMessage(std::make_shared<const v1::ServerMessage>(std::move(message)));
  }
  void FinishLocked(const grpc::Status& status) {
    if (done_) return;
    done_ = true;
    handler_->OnDone(status);
    auto it = core_.sessions_.find(session_id_);
    if (it != core_.sessions_.end() && it->second.stream.get() == this) {
      auto keep = std::move(it->second.stream);  // `this` may die with it, after we return
    }
  }
  bool done() const { return done_; }

 private:
  FakeCore& core_;
  std::shared_ptr<SessionReceiver> handler_;
  std::string session_id_;
  bool done_ = false;
};

FakeCore::FakeCore() = default;
// Streams still open belong to sessions whose executors may be gone: no callbacks now.
FakeCore::~FakeCore() = default;

namespace {

std::string Capitalized(std::string name) {
  if (!name.empty()) name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

grpc::Status Down() { return grpc::Status(grpc::StatusCode::UNAVAILABLE, "core is down"); }

}  // namespace

void FakeCore::AddAccount(const std::string& username, const std::string& password,
                          const std::vector<std::string>& characters) {
  std::lock_guard lock(mu_);
  Account account{.password = password,
                  .player_id = "p" + std::to_string(accounts_.size() + 1),
                  .characters = {}};
  for (const auto& name : characters) {
    v1::CharacterSummary c;
    c.set_id("c-" + name);
    c.set_name(name);
    account.characters.push_back(c);
  }
  accounts_[username] = account;
}

v1::LoginReply FakeCore::Issue(const std::string& username) {
  v1::LoginReply reply;
  const Account& account = accounts_.at(username);
  const std::string token = "t" + std::to_string(++next_id_);
  tokens_[token] = username;
  reply.set_player_id(account.player_id);
  reply.set_login_token(token);
  for (const auto& c : account.characters) *reply.add_characters() = c;
  return reply;
}

void FakeCore::CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) {
  std::unique_lock lock(mu_);
  if (down_) {
    lock.unlock();
    return done(Down(), {});
  }
  v1::LoginReply reply;
  if (accounts_.count(credentials.username()) != 0) {
    reply.set_message("That username is taken.");
  } else {
    lock.unlock();
    AddAccount(credentials.username(), credentials.password(),
               {Capitalized(credentials.username())});
    lock.lock();
    reply = Issue(credentials.username());
  }
  lock.unlock();
  done(grpc::Status::OK, reply);
}

void FakeCore::Login(v1::Credentials credentials, Done<v1::LoginReply> done) {
  std::unique_lock lock(mu_);
  if (down_) {
    lock.unlock();
    return done(Down(), {});
  }
  v1::LoginReply reply;
  auto it = accounts_.find(credentials.username());
  if (it == accounts_.end() || it->second.password != credentials.password()) {
    reply.set_message("Wrong username or password.");
  } else {
    reply = Issue(credentials.username());
  }
  if (hold_logins_) {
    held_.emplace_back(std::move(reply), std::move(done));
    return;
  }
  lock.unlock();
  done(grpc::Status::OK, reply);
}

void FakeCore::HoldLogins() {
  std::lock_guard lock(mu_);
  hold_logins_ = true;
}

void FakeCore::ReleaseLogins() {
  std::unique_lock lock(mu_);
  hold_logins_ = false;
  auto held = std::move(held_);
  held_.clear();
  lock.unlock();
  for (auto& [reply, done] : held) done(grpc::Status::OK, reply);
}

size_t FakeCore::held_logins() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

void FakeCore::StartSession(v1::StartSessionRequest request, Done<v1::StartSessionReply> done) {
  std::unique_lock lock(mu_);
  ++start_session_calls_;
  if (down_) {
    lock.unlock();
    return done(Down(), {});
  }
  v1::StartSessionReply reply;
  auto token = tokens_.find(request.login_token());
  if (token == tokens_.end()) {
    reply.set_message("Your login has expired; please connect again.");
  } else {
    const Account& account = accounts_.at(token->second);
    for (const auto& c : account.characters) {
      if (c.name() == request.character_name()) {
        Session session{.id = "s" + std::to_string(++next_id_),
                        .resume_token = "r" + std::to_string(next_id_),
                        .player_id = account.player_id,
                        .character = c};
        reply.set_session_id(session.id);
        reply.set_resume_token(session.resume_token);
        *reply.mutable_character() = c;
        sessions_[session.id] = session;
      }
    }
    if (reply.session_id().empty()) reply.set_message("No such character.");
  }
  lock.unlock();
  done(grpc::Status::OK, reply);
}

void FakeCore::Who(Done<v1::WhoReply> done) {
  std::unique_lock lock(mu_);
  if (down_) {
    lock.unlock();
    return done(Down(), {});
  }
  v1::WhoReply reply;
  for (const auto& [id, s] : sessions_) {
    if (s.stream && !s.ended) {
      auto* e = reply.add_entries();
      e->set_name(s.character.name());
      e->set_idle_seconds(75);
    }
  }
  lock.unlock();
  done(grpc::Status::OK, reply);
}

std::shared_ptr<SessionHandle> FakeCore::OpenSession(const v1::OpenSession& open,
                                                     std::shared_ptr<SessionReceiver> handler) {
  std::lock_guard lock(mu_);
  opens_.push_back(open);
  auto stream = std::make_shared<Stream>(*this, std::move(handler), open.session_id());
  if (down_) {
    stream->FinishLocked(Down());
    return stream;
  }
  auto it = sessions_.find(open.session_id());
  if (it == sessions_.end() || it->second.ended || it->second.resume_token != open.resume_token()) {
    stream->FinishLocked(
        grpc::Status(grpc::StatusCode::NOT_FOUND, "That session has ended; please log in again."));
    return stream;
  }
  Session& session = it->second;
  if (session.stream) {
    session.stream->FinishLocked(
        grpc::Status(grpc::StatusCode::ABORTED, "session opened on another stream"));
  }
  session.stream = stream;
  int replayed = 0;
  std::vector<const LoggedEvent*> missed;
  if (!open.last_event_id().empty()) {
    for (const auto& e : log_) {
      if (e.event.id() > open.last_event_id()) missed.push_back(&e);
    }
    replayed = static_cast<int>(missed.size());
  }
  v1::ServerMessage opened;
  *opened.mutable_opened()->mutable_character() = session.character;
  opened.mutable_opened()->set_resumed(!open.last_event_id().empty());
  opened.mutable_opened()->set_replayed_events(replayed);
  stream->SendLocked(std::move(opened));
  for (const auto* e : missed) Deliver(session, *e, true);
  return stream;
}

std::string FakeCore::NextEventId() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "E%010d", ++next_id_);
  return buf;
}

void FakeCore::Deliver(Session& session, const LoggedEvent& logged, bool replayed) {
  if (!session.stream || session.ended) return;
  v1::ServerMessage message;
  v1::Event* event = message.mutable_event();
  *event = logged.event;
  if (!logged.actor_session.empty() && logged.actor_session != session.id) {
    event->set_text(logged.other_text);
  }
  event->set_replayed(replayed);
  session.stream->SendLocked(std::move(message));
}

void FakeCore::Execute(const std::string& session_id, const std::string& line) {
  commands_.push_back(line);
  Session& session = sessions_.at(session_id);
  if (line.rfind("say ", 0) == 0) {
    const std::string msg = line.substr(4);
    LoggedEvent logged;
    logged.event.set_id(NextEventId());
    logged.event.set_type("say");
    logged.event.set_actor_name(session.character.name());
    logged.event.set_text("You say, \"" + msg + "\"");
    logged.actor_session = session_id;
    logged.other_text = session.character.name() + " says, \"" + msg + "\"";
    log_.push_back(logged);
    for (auto& [id, s] : sessions_) Deliver(s, logged, false);
    return;
  }
  v1::ServerMessage reply;
  if (line == "quit") {
    reply.mutable_closed()->set_reason("Goodbye.");
    session.ended = true;
    auto stream = session.stream;
    stream->SendLocked(std::move(reply));
    stream->FinishLocked(grpc::Status::OK);
    return;
  }
  if (line == "look") {
    reply.mutable_output()->set_text("The Nexus\nA quiet place.");
  } else if (line == "spam") {
    // Lots of output at once, for slow-reader tests.
    reply.mutable_output()->set_text(std::string(64 * 1024, 'x'));
  } else {
    reply.mutable_output()->set_text("Unknown command. Try 'help'.");
  }
  session.stream->SendLocked(std::move(reply));
}

void FakeCore::BreakStreams(const grpc::Status& status) {
  std::lock_guard lock(mu_);
  for (auto& [id, s] : sessions_) {
    if (auto stream = s.stream) stream->FinishLocked(status);
  }
}

void FakeCore::SetDown(bool down) {
  std::lock_guard lock(mu_);
  down_ = down;
}

void FakeCore::Broadcast(const std::string& type, const std::string& text) {
  std::lock_guard lock(mu_);
  LoggedEvent logged;
  logged.event.set_id(NextEventId());
  logged.event.set_type(type);
  logged.event.set_text(text);
  log_.push_back(logged);
  for (auto& [id, s] : sessions_) Deliver(s, logged, false);
}

void FakeCore::CloseSession(const std::string& session_id, const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || !it->second.stream) return;
  it->second.ended = true;
  auto stream = it->second.stream;
  v1::ServerMessage message;
  message.mutable_closed()->set_reason(reason);
  stream->SendLocked(std::move(message));
  stream->FinishLocked(grpc::Status::OK);
}

std::vector<v1::OpenSession> FakeCore::opens() const {
  std::lock_guard lock(mu_);
  return opens_;
}

std::vector<std::string> FakeCore::commands() const {
  std::lock_guard lock(mu_);
  return commands_;
}

size_t FakeCore::open_streams() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, s] : sessions_) n += s.stream ? 1 : 0;
  return n;
}

int FakeCore::start_session_calls() const {
  std::lock_guard lock(mu_);
  return start_session_calls_;
}

void FakeCore::Shutdown() {
  BreakStreams(grpc::Status(grpc::StatusCode::CANCELLED, "fake core shut down"));
}

}  // namespace holomush::gateway::fakes
