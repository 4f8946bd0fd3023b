// A small in-memory core behind the CoreApi interface, for gateway unit tests: accounts,
// sessions, `say` and `quit`, an event log with replay, and switches to break the link.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core_api.hpp"

namespace holomush::gateway::fakes {

class FakeCore : public CoreApi {
 public:
  FakeCore();
  ~FakeCore() override;

  void CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) override;
  void Login(v1::Credentials credentials, Done<v1::LoginReply> done) override;
  void StartSession(v1::StartSessionRequest request, Done<v1::StartSessionReply> done) override;
  void Who(Done<v1::WhoReply> done) override;
  std::shared_ptr<SessionHandle> OpenSession(const v1::OpenSession& open,
                                             std::shared_ptr<SessionReceiver> handler) override;

  // Adds an account with these characters (the first account also gets one of its name).
  void AddAccount(const std::string& username, const std::string& password,
                  const std::vector<std::string>& characters);
  // Ends every open stream with `status` (a core crash), without `closed`.
  void BreakStreams(const grpc::Status& status);
  // While down, every call fails with UNAVAILABLE.
  void SetDown(bool down);
  // While held, Login answers wait; ReleaseLogins() answers them (on the caller's thread).
  void HoldLogins();
  void ReleaseLogins();
  size_t held_logins() const;
  // A live event as another process would publish it: delivered to every attached session
  // (text as is), stored for replay.
  void Broadcast(const std::string& type, const std::string& text);
  // Ends the stream of `session_id` with `closed` (boot, shutdown).
  void CloseSession(const std::string& session_id, const std::string& reason);

  // What the gateway sent.
  std::vector<v1::OpenSession> opens() const;
  std::vector<std::string> commands() const;
  size_t open_streams() const;
  int start_session_calls() const;
  // Ends streams and waits until their callbacks have run.
  void Shutdown();

 private:
  class Stream;
  struct Account {
    std::string password;
    std::string player_id;
    std::vector<v1::CharacterSummary> characters;
  };
  struct Session {
    std::string id;
    std::string resume_token;
    std::string player_id;
    v1::CharacterSummary character;
    bool ended = false;
    std::shared_ptr<Stream> stream;
  };
  struct LoggedEvent {
    v1::Event event;
    std::string actor_session;  // speaker sees "You say"; empty: same text for all
    std::string other_text;
  };

  v1::LoginReply Issue(const std::string& username);
  void Execute(const std::string& session_id, const std::string& line);
  void Deliver(Session& session, const LoggedEvent& logged, bool replayed);
  std::string NextEventId();

  mutable std::mutex mu_;
  bool down_ = false;
  bool hold_logins_ = false;
  std::vector<std::pair<v1::LoginReply, Done<v1::LoginReply>>> held_;
  int next_id_ = 0;
  int start_session_calls_ = 0;
  std::map<std::string, Account> accounts_;
  std::map<std::string, std::string> tokens_;  // login token -> username
  std::map<std::string, Session> sessions_;
  std::vector<LoggedEvent> log_;
  std::vector<v1::OpenSession> opens_;
  std::vector<std::string> commands_;
};

}  // namespace holomush::gateway::fakes
