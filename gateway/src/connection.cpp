#include "connection.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <vector>

namespace holomush::gateway {

bool IsLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address == "::1" || address.rfind("::ffff:127.", 0) == 0;
}

ConnectionRegistry::Admit ConnectionRegistry::Reserve(const std::string& address) {
  std::lock_guard lock(mu_);
  if (stopping_) return Admit::kStopping;
  if (count_ >= caps_.total) return Admit::kFull;
  if (caps_.prelogin > 0 && prelogin_ >= caps_.prelogin) return Admit::kLoginsFull;
  auto& from_here = per_address_[address];
  if (caps_.per_address > 0 && from_here >= caps_.per_address && !IsLoopback(address)) {
    return Admit::kAddressFull;
  }
  ++from_here;
  ++count_;
  ++prelogin_;
  return Admit::kOk;
}

void ConnectionRegistry::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  ReleaseLocked(address, /*logged_in=*/false);
}

void ConnectionRegistry::ReleaseLocked(const std::string& address, bool logged_in) {
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  if (!logged_in && prelogin_ > 0) --prelogin_;
  if (count_ > 0) --count_;
  if (count_ == 0) empty_.notify_all();
}

void ConnectionRegistry::Add(ClientConnection* connection, std::weak_ptr<ClientConnection> handle,
                             const std::string& address) {
  bool stopping = false;
  {
    std::lock_guard lock(mu_);
    live_[connection] = Live{handle, address};
    stopping = stopping_;
  }
  // Accepted just as shutdown began: it gets the same farewell as the others.
  if (stopping) {
    if (auto c = handle.lock()) c->Shutdown(std::string(kShutdownText));
  }
}

void ConnectionRegistry::LoggedIn(ClientConnection* connection) {
  std::lock_guard lock(mu_);
  auto it = live_.find(connection);
  if (it == live_.end() || it->second.logged_in) return;
  it->second.logged_in = true;
  if (prelogin_ > 0) --prelogin_;
}

void ConnectionRegistry::Remove(ClientConnection* connection) {
  std::lock_guard lock(mu_);
  auto it = live_.find(connection);
  if (it == live_.end()) return;
  ReleaseLocked(it->second.address, it->second.logged_in);
  live_.erase(it);
}

void ConnectionRegistry::ShutdownAll(const std::string& text) {
  std::vector<std::shared_ptr<ClientConnection>> targets;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [raw, live] : live_) {
      if (auto c = live.handle.lock()) targets.push_back(std::move(c));
    }
  }
  for (auto& c : targets) c->Shutdown(text);
}

bool ConnectionRegistry::WaitEmpty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return empty_.wait_for(lock, timeout, [this] { return count_ == 0; });
}

size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mu_);
  return count_;
}

size_t ConnectionRegistry::prelogin() const {
  std::lock_guard lock(mu_);
  return prelogin_;
}

}  // namespace holomush::gateway

namespace holomush::gateway {

using Clock = std::chrono::steady_clock;

std::optional<std::string> AdmitConnection(const ConnectionEnv& env, Protocol protocol,
                                           boost::asio::ip::tcp::socket& socket,
                                           RenderRefusal refusal) {
  auto* metrics = env.metrics != nullptr ? &env.metrics->For(protocol) : nullptr;
  boost::system::error_code ignored;
  const auto endpoint = socket.remote_endpoint(ignored);
  const std::string address = ignored ? std::string() : endpoint.address().to_string();
  const ConnectionRegistry::Admit admit = env.registry->Reserve(address);
  std::string_view text;
  prometheus::Counter* counter = nullptr;
  switch (admit) {
    case ConnectionRegistry::Admit::kOk:
      return address;
    case ConnectionRegistry::Admit::kFull:
      text = kFullText;
      if (metrics != nullptr) counter = metrics->refused_limit;
      break;
    case ConnectionRegistry::Admit::kLoginsFull:
      text = kLoginsFullText;
      if (metrics != nullptr) counter = metrics->refused_prelogin;
      break;
    case ConnectionRegistry::Admit::kAddressFull:
      text = kAddressFullText;
      if (metrics != nullptr) counter = metrics->refused_address;
      break;
    case ConnectionRegistry::Admit::kStopping:
      if (metrics != nullptr) counter = metrics->refused_shutdown;
      break;
  }
  if (counter != nullptr) counter->Increment();
  if (!text.empty()) {
    // A few bytes into an empty kernel buffer: this write does not block.
    boost::asio::write(socket, boost::asio::buffer(refusal(admit, text)), ignored);
  }
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  return std::nullopt;
}

ConnectionBase::ConnectionBase(boost::asio::any_io_executor executor, const ConnectionEnv& env,
                               Protocol protocol)
    : executor_(std::move(executor)),
      env_(env),
      protocol_(protocol),
      metrics_(env.metrics != nullptr ? &env.metrics->For(protocol) : nullptr),
      timer_(executor_),
      pace_timer_(executor_),
      started_(Clock::now()),
      last_input_(started_) {
  if (metrics_ != nullptr) {
    metrics_->connections_total->Increment();
    metrics_->connections_active->Increment();
  }
}

ConnectionBase::~ConnectionBase() {
  // A connection dropped before it finished (the io_context went away under it).
  if (!finished_ && metrics_ != nullptr) metrics_->connections_active->Decrement();
}

void ConnectionBase::Shutdown(std::string text) {
  boost::asio::post(executor_, [self = shared_from_this(), text = std::move(text)] {
    self->Close(text, CloseReason::kShutdown);
  });
}

void ConnectionBase::SessionOpened(std::string_view session_id, std::string_view resume_token,
                                   std::string_view character) {
  if (env_.registry != nullptr) env_.registry->LoggedIn(this);
  OnSessionOpened(session_id, resume_token, character);
}

void ConnectionBase::StartSession() {
  SessionOptions options = env_.session;
  options.protocol = protocol_;
  // The address without its port: failed logins back off per (account, address) in core.
  options.client_address = remote_.substr(0, remote_.rfind(':'));
  session_ = std::make_shared<PlayerSession>(executor_, env_.deps, this, options);
  session_->Begin();
  ArmTimer();
}

void ConnectionBase::OnInputLine(std::string line) {
  if (closing_ || session_ == nullptr) return;
  last_input_ = Clock::now();
  if (held_.empty() && session_->InputDelay(last_input_) == Clock::duration::zero()) {
    session_->OnLine(std::move(line));
    return;
  }
  held_.push_back(std::move(line));
  ArmPace();
}

void ConnectionBase::ReadNext() {
  if (finished_) return;
  if (held_.empty() || closing_) {
    StartRead();
  } else {
    read_paused_ = true;
  }
}

void ConnectionBase::ArmPace() {
  if (pace_armed_ || held_.empty()) return;
  pace_armed_ = true;
  pace_timer_.expires_after(session_->InputDelay(Clock::now()));
  pace_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->pace_armed_ = false;
    if (!ec) self->OnPace();
  });
}

void ConnectionBase::OnPace() {
  if (closing_ || finished_ || session_ == nullptr) return;
  while (!held_.empty() && session_->InputDelay(Clock::now()) == Clock::duration::zero()) {
    std::string line = std::move(held_.front());
    held_.pop_front();
    session_->OnLine(std::move(line));
    if (closing_) return;
  }
  if (!held_.empty()) {
    ArmPace();
  } else if (read_paused_) {
    read_paused_ = false;
    StartRead();
  }
}

void ConnectionBase::OnResume(std::string session_id, std::string resume_token,
                              std::string last_event_id) {
  if (closing_ || session_ == nullptr) return;
  last_input_ = Clock::now();
  session_->ResumeFromClient(std::move(session_id), std::move(resume_token),
                             std::move(last_event_id));
}

void ConnectionBase::Close(std::string_view text, CloseReason reason) {
  if (closing_) return;
  closing_ = true;
  reason_ = reason;
  if (finished_) return;
  if (!text.empty()) QueueFarewell(text);
  if (finished_) return;  // the farewell overflowed the queue
  if (OutputDrained()) {
    Finish();
    return;
  }
  // Give the client a moment to read the farewell, no more.
  timer_.expires_after(env_.limits.close_linger);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->Finish();
  });
}

void ConnectionBase::Abort(CloseReason reason) {
  if (!closing_) reason_ = reason;
  closing_ = true;
  Finish();
}

void ConnectionBase::OnOutputDrained() {
  if (closing_ && !finished_) Finish();
}

bool ConnectionBase::ReadCompleted(const boost::system::error_code& ec, size_t bytes) {
  if (finished_) return false;
  if (ec) {
    Abort(CloseReason::kClientGone);
    return false;
  }
  if (metrics_ != nullptr) metrics_->bytes_received->Increment(static_cast<double>(bytes));
  return true;
}

bool ConnectionBase::WriteCompleted(const boost::system::error_code& ec, size_t bytes) {
  if (metrics_ != nullptr) metrics_->bytes_sent->Increment(static_cast<double>(bytes));
  if (finished_) return false;
  if (ec) {
    Abort(CloseReason::kClientGone);
    return false;
  }
  return true;
}

// The next moment a timeout could fire. Before login that is the login deadline, or the idle
// deadline if sooner (login completes without input, so the timer must already be running
// for idleness by then). Input only moves last_input_; the timer re-arms itself on firing.
void ConnectionBase::ArmTimer() {
  if (closing_ || session_ == nullptr) return;
  const auto& limits = env_.limits;
  std::optional<Clock::time_point> deadline;
  if (limits.idle_timeout.count() > 0) deadline = last_input_ + limits.idle_timeout;
  if (!session_->logged_in() && limits.login_timeout.count() > 0) {
    const auto login_deadline = started_ + limits.login_timeout;
    if (!deadline || login_deadline < *deadline) deadline = login_deadline;
  }
  if (!deadline) return;
  timer_.expires_at(*deadline);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->OnTimer();
  });
}

void ConnectionBase::OnTimer() {
  if (closing_ || finished_) return;
  const auto now = Clock::now();
  if (!session_->logged_in()) {
    if (env_.limits.login_timeout.count() > 0 && now >= started_ + env_.limits.login_timeout) {
      Close("You did not log in in time. Goodbye.", CloseReason::kLoginTimeout);
      return;
    }
  } else if (env_.limits.idle_timeout.count() > 0 &&
             now >= last_input_ + env_.limits.idle_timeout) {
    Close("You have been idle too long. Goodbye.", CloseReason::kIdle);
    return;
  }
  ArmTimer();
}

void ConnectionBase::Finish() {
  if (finished_) return;
  finished_ = true;
  CloseTransport();
  timer_.cancel();
  pace_timer_.cancel();
  held_.clear();
  if (session_ != nullptr) session_->Detach();
  if (metrics_ != nullptr) {
    metrics_->connections_active->Decrement();
    metrics_->disconnects[static_cast<size_t>(reason_)]->Increment();
  }
  env_.log.Debug("connection closed", {{"protocol", ProtocolName(protocol_)},
                                       {"remote", remote_},
                                       {"reason", CloseReasonName(reason_)}});
  env_.registry->Remove(this);
}

}  // namespace holomush::gateway
