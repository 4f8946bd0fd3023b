// The login dialogue of a PlayerSession: create, connect, the password prompt, per-address
// limits, choosing a character, and pre-login `who`. It ends by handing a character to
// Embody (player_session.cpp), where the game session begins.
#include <boost/asio/post.hpp>

#include "command_line.hpp"
#include "login_throttle.hpp"
#include "player_session.hpp"
#include "text.hpp"

namespace holomush::gateway {
namespace {

std::string CharacterList(const std::vector<v1::CharacterSummary>& characters) {
  std::string out;
  for (const auto& c : characters) {
    if (!out.empty()) out += ", ";
    out += c.name();
  }
  return out;
}

}  // namespace

void PlayerSession::HandlePreLogin(const std::string& line) {
  const PreLoginCommand cmd = ParsePreLogin(line);
  using Verb = PreLoginCommand::Verb;
  switch (cmd.verb) {
    case Verb::kEmpty:
      return;
    case Verb::kCreate:
    case Verb::kConnect: {
      const bool create = cmd.verb == Verb::kCreate;
      if (cmd.username.empty()) {
        Say(create ? "Usage: create <username> <password>"
                   : "Usage: connect <username> <password>");
        return;
      }
      if (cmd.password.empty()) {
        pending_create_ = create;
        pending_username_ = cmd.username;
        phase_ = Phase::kPassword;
        if (port_ != nullptr) {
          port_->SetEcho(false);
          port_->SendPrompt("Password: ");
        }
        return;
      }
      Authenticate(create, cmd.username, cmd.password);
      return;
    }
    case Verb::kPlay:
      if (phase_ != Phase::kChoosing) {
        Say("Log in first: connect <username> <password>");
        return;
      }
      ChooseCharacter(cmd.name);
      return;
    case Verb::kWho: {
      const Phase back = phase_;
      phase_ = Phase::kBusy;
      deps_.core->Who([self = weak_from_this(), ex = executor_, back](const grpc::Status& status,
                                                                      v1::WhoReply reply) {
        boost::asio::post(ex, [self, back, status, reply = std::move(reply)] {
          auto session = self.lock();
          if (!session || session->phase_ != Phase::kBusy) return;
          session->OnWho(status, reply);
          session->Idle(back);
        });
      });
      return;
    }
    case Verb::kQuit:
      CloseWith(text::kGoodbye, CloseReason::kQuit);
      return;
    case Verb::kHelp:
      Say(phase_ == Phase::kChoosing
              ? "Choose a character: play <name>\n" + std::string(text::kBanner)
              : std::string(text::kBanner));
      return;
    case Verb::kUnknown:
      Say(phase_ == Phase::kChoosing
              ? "Choose a character first: play <name> (yours: " + CharacterList(characters_) + ")"
              : std::string(text::kUnknown));
      return;
  }
}

void PlayerSession::Authenticate(bool create, const std::string& username,
                                 const std::string& password) {
  // Per-address limits first: a refused attempt never reaches core (or its password hashing).
  if (deps_.throttle != nullptr &&
      !deps_.throttle->Admit(options_.client_address,
                             create ? LoginThrottle::Kind::kCreate : LoginThrottle::Kind::kLogin,
                             std::chrono::steady_clock::now())) {
    if (deps_.metrics != nullptr) {
      (create ? deps_.metrics->logins_refused_create_rate()
              : deps_.metrics->logins_refused_login_rate())
          .Increment();
    }
    pending_username_.clear();
    Say(create ? "Too many accounts created from your address; try again later."
               : "Too many login attempts from your address; wait a minute and try again.");
    Idle(Phase::kWelcome);
    return;
  }
  phase_ = Phase::kBusy;
  v1::Credentials credentials;
  credentials.set_username(username);
  credentials.set_password(password);
  credentials.set_client_address(options_.client_address);
  pending_username_.clear();  // only now: `username` may be this very string
  auto done = [self = weak_from_this(), ex = executor_, create](const grpc::Status& status,
                                                                v1::LoginReply reply) {
    boost::asio::post(ex, [self, create, status, reply = std::move(reply)] {
      auto session = self.lock();
      if (session && session->phase_ == Phase::kBusy) session->OnLoginReply(create, status, reply);
    });
  };
  if (create) {
    deps_.core->CreateAccount(std::move(credentials), std::move(done));
  } else {
    deps_.core->Login(std::move(credentials), std::move(done));
  }
}

void PlayerSession::OnLoginReply(bool create, const grpc::Status& status,
                                 const v1::LoginReply& reply) {
  if (!status.ok()) {
    Say(DescribeCoreError(status));
    Idle(Phase::kWelcome);
    return;
  }
  if (!reply.message().empty() || reply.login_token().empty()) {
    Say(reply.message().empty() ? (create ? "Account not created." : "Login refused.")
                                : reply.message());
    Idle(Phase::kWelcome);
    return;
  }
  login_token_ = reply.login_token();
  player_id_ = reply.player_id();
  created_ = create;
  characters_.assign(reply.characters().begin(), reply.characters().end());
  if (characters_.empty()) {
    Say("This account has no characters.");
    Idle(Phase::kWelcome);
    return;
  }
  if (characters_.size() == 1) {
    Embody(characters_.front());
    return;
  }
  Say("Your characters: " + CharacterList(characters_) + "\nType play <name> to choose one.");
  Idle(Phase::kChoosing);
}

void PlayerSession::ChooseCharacter(const std::string& name) {
  const std::string wanted = Lower(name);
  for (const auto& c : characters_) {
    if (Lower(c.name()) == wanted) {
      Embody(c);
      return;
    }
  }
  Say("You have no character called '" + name + "'. Yours: " + CharacterList(characters_) + ".");
}

void PlayerSession::OnWho(const grpc::Status& status, const v1::WhoReply& reply) {
  if (!status.ok()) {
    Say(DescribeCoreError(status));
    return;
  }
  if (reply.entries().empty()) {
    Say("Nobody is connected.");
    return;
  }
  std::vector<common::WhoRow> rows;
  rows.reserve(static_cast<size_t>(reply.entries_size()));
  for (const auto& entry : reply.entries()) rows.push_back({entry.name(), entry.idle_seconds()});
  Say(common::WhoTable(rows));
}

}  // namespace holomush::gateway
