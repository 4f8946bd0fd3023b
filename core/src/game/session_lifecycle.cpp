#include "game/session_lifecycle.hpp"

#include <boost/asio/post.hpp>

#include "game/accounts.hpp"
#include "game/command_parser.hpp"

namespace holomush::core {

using common::Error;
using common::ErrorKind;

namespace {

// 128 random bits in uuid form, naming this process's lease.
std::string NewCoreId() {
  const std::string hex = RandomHex(16);
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20);
}

}  // namespace

SessionLifecycle::SessionLifecycle(Stores& stores, ListenHub& hub, SessionRegistry& registry,
                                   CoreMetrics& metrics, Announcer& announcer,
                                   PresenceCache& presence, boost::asio::any_io_executor executor,
                                   std::chrono::seconds linger)
    : stores_(stores),
      hub_(hub),
      registry_(registry),
      metrics_(metrics),
      announcer_(announcer),
      presence_(presence),
      executor_(std::move(executor)),
      linger_(linger),
      core_id_(NewCoreId()),
      who_([this] { return stores_.sessions.Who(); }, std::chrono::seconds(1)) {}

Result<pb::StartSessionReply> SessionLifecycle::Start(const std::string& login_token,
                                                      const std::string& character_name) {
  pb::StartSessionReply reply;
  auto player = stores_.accounts.PlayerForLoginToken(Sha256Hex(login_token));
  if (!player) {
    if (player.error().kind != ErrorKind::kNotFound) return player.error();
    reply.set_message("Your login has expired; please connect again.");
    return reply;
  }
  auto chars = stores_.accounts.CharactersOf(player->id);
  if (!chars) return chars.error();
  const Character* chosen = nullptr;
  for (const auto& c : *chars) {
    if (Lower(c.name) == Lower(Trim(character_name)) ||
        (character_name.empty() && chars->size() == 1)) {
      chosen = &c;
    }
  }
  if (chosen == nullptr) {
    reply.set_message("You have no character called '" + character_name + "'.");
    return reply;
  }
  const std::string resume_token = RandomHex(32);
  auto session_id = stores_.sessions.CreateSession(player->id, chosen->id, Sha256Hex(resume_token));
  if (!session_id) return session_id.error();
  presence_.Forget(chosen->location_id);  // the player's first look shows them there
  reply.set_session_id(*session_id);
  reply.set_resume_token(resume_token);
  reply.mutable_character()->set_id(chosen->id);
  reply.mutable_character()->set_name(chosen->name);
  announcer_.Append(LocationStream(chosen->location_id), "connect", *chosen,
                    nlohmann::json::object());
  return reply;
}

void SessionLifecycle::Open(const pb::OpenSession& open, std::shared_ptr<SessionSink> sink,
                            std::function<void(const std::shared_ptr<CoreSession>&, int)> opened,
                            std::function<void(const common::Error&)> refused) {
  boost::asio::post(executor_, [this, open, sink = std::move(sink), opened = std::move(opened),
                                refused = std::move(refused)] {
    const Error ended{ErrorKind::kNotFound, "That session has ended; please log in again."};
    auto record = stores_.sessions.GetSession(open.session_id());
    if (!record) {
      const auto kind = record.error().kind;
      return refused(kind == ErrorKind::kNotFound || kind == ErrorKind::kInvalid ? ended
                                                                                 : record.error());
    }
    if (record->ended || record->resume_token_hash != Sha256Hex(open.resume_token())) {
      return refused(ended);
    }
    auto session = registry_.Find(record->id);
    if (!session) {
      auto player = stores_.accounts.GetPlayer(record->player_id);
      if (!player) return refused(player.error());
      auto character = stores_.world.GetCharacter(record->character_id);
      if (!character) return refused(character.error());
      session = registry_.FindOrAdd(record->id, [&] {
        auto s = std::make_shared<CoreSession>(*record, *player, *character, hub_, stores_.events,
                                               executor_);
        std::weak_ptr<CoreSession> weak = s;
        s->OnBoot([this, weak] {
          if (auto booted = weak.lock()) End(*booted, "You have been booted.", true);
        });
        return s;
      });
      session->Subscribe();
    }
    session->Post([this, session, open, sink, opened, refused] {
      // Connected before `opened` goes out, so `who` agrees with what the player sees.
      (void)stores_.sessions.Connect(session->id(), core_id_);
      who_.Forget();
      // Counted before `opened` goes out: a player who sees the game sees the gauge agree.
      auto replayed = session->Attach(sink, open.last_event_id(), [&](int count) {
        UpdateActiveGauge();
        opened(session, count);
      });
      if (!replayed) {
        Detach(session, sink.get());
        return refused(replayed.error());
      }
    });
  });
}

void SessionLifecycle::Detach(const std::shared_ptr<CoreSession>& session,
                              const SessionSink* sink) {
  if (session->Detach(sink)) {
    (void)stores_.sessions.Disconnect(session->id());
    who_.Forget();
  }
  UpdateActiveGauge();
}

void SessionLifecycle::Expire() {
  std::vector<std::string> active;
  for (const auto& s : registry_.All()) {
    if (s->attached() && s->TakeActive()) active.push_back(s->id());
  }
  (void)stores_.sessions.RenewLease(core_id_, active);
  auto expired = stores_.sessions.ExpireDetached(linger_);
  if (!expired || expired->empty()) return;
  who_.Forget();
  // Some may be other replicas' (dead) sessions, whose locations this process does not know.
  presence_.ForgetAll();
  for (const auto& id : *expired) {
    if (auto s = registry_.Find(id)) {
      s->UnsubscribeAll();
      registry_.Remove(id);
      announcer_.Append(LocationStream(s->character().location_id), "disconnect", s->character(),
                        nlohmann::json::object());
    }
  }
}

void SessionLifecycle::End(CoreSession& s, const std::string& reason, bool announce) {
  (void)stores_.sessions.EndSession(s.id());
  who_.Forget();
  presence_.Forget(s.character().location_id);
  if (announce) {
    announcer_.Append(LocationStream(s.character().location_id), "disconnect", s.character(),
                      nlohmann::json::object());
  }
  s.Close(reason);
  s.UnsubscribeAll();
  registry_.Remove(s.id());
  UpdateActiveGauge();
}

void SessionLifecycle::UpdateActiveGauge() {
  // Counting and setting as one step: otherwise a thread that counted before another's
  // attach could set its older count last, and the gauge would stay one short.
  std::lock_guard lock(gauge_mu_);
  metrics_.sessions_active().Set(static_cast<double>(registry_.AttachedCount()));
}

}  // namespace holomush::core
