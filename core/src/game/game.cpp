#include "game/game.hpp"

#include <sodium.h>

#include <boost/asio/post.hpp>
#include <cctype>
#include <regex>
#include <sstream>

#include "game/command_parser.hpp"
#include "game/exit_match.hpp"
#include "game/render.hpp"
#include "holomush/common/utf8.hpp"

namespace holomush::core {
namespace {

using common::Error;
using common::ErrorKind;

constexpr const char* kUnavailable = "The game cannot reach its database right now; try again.";
constexpr size_t kMaxMessage = 4000;
constexpr size_t kMaxLine = 8192;

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), buf.data(), buf.size());
  out.pop_back();
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

// argon2id with 19 MiB and 2 passes: strong, yet a login costs tens of milliseconds.
constexpr unsigned long long kPwOps = 2;
constexpr size_t kPwMem = 19 * 1024 * 1024;

std::optional<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kPwOps, kPwMem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string FormatIdle(int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  return std::to_string(seconds / 3600) + "h";
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

struct HelpEntry {
  const char* usage;
  const char* text;
};

const std::map<std::string, HelpEntry>& HelpTopics() {
  static const std::map<std::string, HelpEntry> kTopics = {
      {"look", {"look [target]", "Shows where you are, or something here. Short form: l."}},
      {"say", {"say <message>", "Says something to everyone here. Short form: \"<message>."}},
      {"pose",
       {"pose <action>",
        "Acts, as \"<Name> <action>\". Short forms: :<action>, and "
        ";<action> which joins without a space."}},
      {"emit", {"emit <text>", "Shows text to everyone here, unattributed (builders, admins)."}},
      {"page", {"page <name>=<message>", "Sends a private message to a connected character."}},
      {"go",
       {"go <exit>", "Moves through an exit; 'move <exit>' and the bare exit name work too."}},
      {"who", {"who", "Lists connected characters and how long they have been idle."}},
      {"help", {"help [command]", "Lists commands, or explains one."}},
      {"alias",
       {"alias <name>=<command>",
        "Makes a personal shortcut; the rest of the line is "
        "kept. See also unalias and aliases."}},
      {"sysalias", {"sysalias <name>=<command>", "Makes a shortcut for everyone (admins)."}},
      {"dig",
       {"dig <exit> to \"<Location>\" [return <exit>]",
        "Creates a location and an exit to it (builders). Exit aliases: north;n."}},
      {"link",
       {"link <exit> to <location>", "Creates an exit to an existing location (builders)."}},
      {"describe", {"describe here=<text>", "Sets this location's description (builders)."}},
      {"boot", {"boot <name>", "Disconnects a character (admins)."}},
      {"wall", {"wall <message>", "Announces to everyone connected (admins)."}},
      {"shutdown", {"shutdown", "Stops this game server (admins)."}},
      {"quit", {"quit", "Ends your session."}},
  };
  return kTopics;
}

}  // namespace

bool ValidUsername(const std::string& name) {
  static const std::regex kPattern("^[A-Za-z][A-Za-z0-9_]{2,29}$");
  return std::regex_match(name, kPattern);
}

std::optional<std::string> NormalizeCharacterName(const std::string& name) {
  static const std::regex kPattern("^[A-Za-z]+( [A-Za-z]+)*$");
  std::string text = Trim(name);
  if (text.size() < 2 || text.size() > 32 || !std::regex_match(text, kPattern)) return std::nullopt;
  bool start = true;
  for (char& c : text) {
    c = start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    start = c == ' ';
  }
  return text;
}

bool ValidAliasName(const std::string& name) {
  static const std::regex kPattern("^[a-z0-9_.+-]{1,32}$");
  return std::regex_match(name, kPattern);
}

Game::Game(Stores stores, EventWriter& writer, ListenHub& hub, SessionRegistry& registry,
           CoreMetrics& metrics, boost::asio::any_io_executor executor, GameOptions options,
           std::function<void()> request_shutdown)
    : stores_(stores),
      writer_(writer),
      hub_(hub),
      registry_(registry),
      metrics_(metrics),
      executor_(std::move(executor)),
      options_(options),
      request_shutdown_(std::move(request_shutdown)),
      aliases_(&Game::IsCommand) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

const std::map<std::string, Game::Handler>& Game::Handlers() {
  static const std::map<std::string, Handler> kHandlers = {
      {"look", &Game::Look},
      {"l", &Game::Look},
      {"say", &Game::Say},
      {"pose", &Game::Pose},
      {"semipose", &Game::SemiPose},
      {"emit", &Game::Emit},
      {"page", &Game::Page},
      {"go", &Game::Go},
      {"move", &Game::Go},
      {"who", &Game::WhoCommand},
      {"help", &Game::Help},
      {"alias", &Game::Alias},
      {"unalias", &Game::Unalias},
      {"aliases", &Game::Aliases},
      {"sysalias", &Game::SysAlias},
      {"sysunalias", &Game::SysUnalias},
      {"sysaliases", &Game::SysAliases},
      {"dig", &Game::Dig},
      {"link", &Game::Link},
      {"describe", &Game::Describe},
      {"boot", &Game::Boot},
      {"wall", &Game::Wall},
      {"shutdown", &Game::Shutdown},
      {"quit", &Game::Quit},
  };
  return kHandlers;
}

bool Game::IsCommand(const std::string& word) { return Handlers().contains(word); }

// ---- aliases: loading and replication ----

common::Status Game::LoadAliases() {
  auto rows = stores_.aliases.AllAliases();
  if (!rows) return rows.error();
  for (const auto& r : *rows) {
    if (auto applied = aliases_.Apply(r.player_id, r.alias, r.command); !applied) {
      log_.Warn(
          "alias in the database not loaded",
          {{"alias", r.alias}, {"player_id", r.player_id}, {"error", applied.error().message}});
    }
  }
  return common::Ok{};
}

void Game::OnAliasNotify(const std::string& payload) {
  if (payload.empty()) {
    (void)LoadAliases();
    return;
  }
  // "player:<player_id>:<alias>" or "system::<alias>"
  auto first = payload.find(':');
  auto second = payload.find(':', first + 1);
  if (first == std::string::npos || second == std::string::npos) return;
  const std::string player_id = payload.substr(first + 1, second - first - 1);
  const std::string alias = payload.substr(second + 1);
  auto row = stores_.aliases.GetAlias(player_id, alias);
  if (!row) return;
  (void)aliases_.Apply(player_id, alias,
                       *row ? std::optional<std::string>((*row)->command) : std::nullopt);
}

// ---- accounts ----

Result<pb::LoginReply> Game::IssueLogin(const Player& player) {
  const std::string token = RandomHex(32);
  if (auto s =
          stores_.accounts.SaveLoginToken(player.id, Sha256Hex(token), std::chrono::minutes(10));
      !s) {
    return s.error();
  }
  auto chars = stores_.accounts.CharactersOf(player.id);
  if (!chars) return chars.error();
  pb::LoginReply reply;
  reply.set_player_id(player.id);
  reply.set_login_token(token);
  for (const auto& c : *chars) {
    auto* summary = reply.add_characters();
    summary->set_id(c.id);
    summary->set_name(c.name);
  }
  return reply;
}

Result<pb::LoginReply> Game::CreateAccount(const std::string& username,
                                           const std::string& password) {
  pb::LoginReply refused;
  if (!ValidUsername(username)) {
    refused.set_message(
        "Usernames are 3 to 30 letters, digits or underscores, starting with a letter.");
    return refused;
  }
  auto character = NormalizeCharacterName(username);
  if (!character) {
    refused.set_message(
        "Your first character takes your username, so it must be letters only (2 to 32).");
    return refused;
  }
  if (password.size() < 6 || password.size() > 128) {
    refused.set_message("Passwords must be 6 to 128 characters long.");
    return refused;
  }
  auto hash = HashPassword(password);
  if (!hash) return Error{ErrorKind::kInternal, "password hashing failed"};
  auto account = stores_.accounts.CreateAccount(username, *hash, *character);
  if (!account) {
    if (account.error().kind == ErrorKind::kConflict) {
      refused.set_message("That name is already taken.");
      return refused;
    }
    return account.error();
  }
  log_.Info("account created", {{"player_id", account->player.id}, {"role", account->player.role}});
  return IssueLogin(account->player);
}

Result<pb::LoginReply> Game::Login(const std::string& username, const std::string& password) {
  pb::LoginReply refused;
  refused.set_message("Invalid username or password.");
  auto auth = stores_.accounts.FindPlayer(username);
  if (!auth) {
    if (auth.error().kind == ErrorKind::kNotFound) return refused;
    return auth.error();
  }
  const std::string locked = "This account is locked for 15 minutes after too many failed logins.";
  if (auth->locked) {
    refused.set_message(locked);
    return refused;
  }
  if (!VerifyPassword(auth->password_hash, password)) {
    auto now_locked = stores_.accounts.RecordLoginFailure(
        auth->player.id, options_.max_login_failures, options_.lock_duration);
    if (!now_locked) return now_locked.error();
    if (*now_locked) {
      log_.Warn("account locked after failed logins", {{"player_id", auth->player.id}});
      refused.set_message(locked);
    }
    return refused;
  }
  if (auto s = stores_.accounts.RecordLoginSuccess(auth->player.id); !s) return s.error();
  return IssueLogin(auth->player);
}

Result<pb::StartSessionReply> Game::StartSession(const std::string& login_token,
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
  reply.set_session_id(*session_id);
  reply.set_resume_token(resume_token);
  reply.mutable_character()->set_id(chosen->id);
  reply.mutable_character()->set_name(chosen->name);
  AppendSystem(LocationStream(chosen->location_id), "connect", *chosen, nlohmann::json::object());
  return reply;
}

Result<pb::WhoReply> Game::Who() {
  auto rows = stores_.sessions.Who();
  if (!rows) return rows.error();
  pb::WhoReply reply;
  for (const auto& r : *rows) {
    auto* e = reply.add_entries();
    e->set_name(r.name);
    e->set_idle_seconds(r.idle_seconds);
  }
  return reply;
}

// ---- sessions ----

void Game::OpenSession(const pb::OpenSession& open, std::shared_ptr<SessionSink> sink,
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
          if (auto booted = weak.lock()) EndSession(*booted, "You have been booted.", true);
        });
        return s;
      });
      session->Subscribe();
    }
    session->Post([this, session, open, sink, opened, refused] {
      // Connected before `opened` goes out, so `who` agrees with what the player sees.
      (void)stores_.sessions.SetConnected(session->id(), true);
      auto replayed =
          session->Attach(sink, open.last_event_id(), [&](int count) { opened(session, count); });
      if (!replayed) {
        Detach(session, sink.get());
        return refused(replayed.error());
      }
      metrics_.sessions_active().Set(static_cast<double>(registry_.AttachedCount()));
    });
  });
}

void Game::Submit(const std::shared_ptr<CoreSession>& session, std::string line,
                  std::function<void()> done) {
  session->Post([this, session, line = std::move(line), done = std::move(done)] {
    Execute(session, common::SanitizeUtf8(line));
    if (done) done();
  });
}

void Game::Detach(const std::shared_ptr<CoreSession>& session, const SessionSink* sink) {
  if (session->Detach(sink)) {
    (void)stores_.sessions.SetConnected(session->id(), false);
  }
  metrics_.sessions_active().Set(static_cast<double>(registry_.AttachedCount()));
}

void Game::ExpireSessions() {
  std::vector<std::string> attached;
  std::vector<std::string> active;
  for (const auto& s : registry_.All()) {
    if (!s->attached()) continue;
    attached.push_back(s->id());
    if (s->TakeActive()) active.push_back(s->id());
  }
  (void)stores_.sessions.RenewLeases(attached, active);
  auto expired = stores_.sessions.ExpireDetached(options_.session_linger);
  if (!expired) return;
  for (const auto& id : *expired) {
    if (auto s = registry_.Find(id)) {
      s->UnsubscribeAll();
      registry_.Remove(id);
      AppendSystem(LocationStream(s->character().location_id), "disconnect", s->character(),
                   nlohmann::json::object());
    }
  }
}

void Game::EndSession(CoreSession& s, const std::string& reason, bool announce) {
  (void)stores_.sessions.EndSession(s.id());
  if (announce) {
    AppendSystem(LocationStream(s.character().location_id), "disconnect", s.character(),
                 nlohmann::json::object());
  }
  s.Close(reason);
  s.UnsubscribeAll();
  registry_.Remove(s.id());
  metrics_.sessions_active().Set(static_cast<double>(registry_.AttachedCount()));
}

// ---- commands ----

void Game::Execute(const std::shared_ptr<CoreSession>& session, const std::string& line) {
  CoreSession& s = *session;
  if (line.size() > kMaxLine) {
    s.Output("That line is too long (" + std::to_string(kMaxLine) + " characters at most).");
    return;
  }
  s.MarkActive();
  auto expanded = aliases_.Expand(s.player().id, line);
  if (!expanded) {
    metrics_.Command("alias");
    s.Output(expanded.error().message);
    return;
  }
  ParsedCommand cmd = ParseCommand(*expanded);
  if (cmd.verb.empty()) return;
  const auto& handlers = Handlers();
  if (auto it = handlers.find(cmd.verb); it != handlers.end()) {
    metrics_.Command(cmd.verb == "l" ? "look" : cmd.verb == "move" ? "go" : cmd.verb);
    (this->*(it->second))(s, cmd.args);
    return;
  }
  // A bare exit name moves.
  const std::string typed = Trim(*expanded);
  auto candidates =
      stores_.world.ExitCandidates(s.character().location_id, typed, TypoVariants(typed));
  if (!candidates) return s.Output(kUnavailable);
  if (auto exit = RankExits(*candidates, options_.exit_match_threshold)) {
    metrics_.Command("go");
    MoveThrough(s, *exit);
    return;
  }
  metrics_.Command("unknown");
  s.Output("Unknown command. Try 'help'.");
}

void Game::Append(CoreSession& s, const std::string& stream, const std::string& type,
                  nlohmann::json payload) {
  AppendSystem(stream, type, s.character(), std::move(payload));
}

void Game::AppendSystem(const std::string& stream, const std::string& type, const Character& actor,
                        nlohmann::json payload) {
  EventRecord e;
  e.stream = stream;
  e.type = type;
  e.actor_id = actor.id;
  e.actor_name = actor.name;
  e.payload = std::move(payload);
  const std::string session_hint = actor.id;
  writer_.Append(std::move(e),
                 [this, session_hint](const common::Status& status, const EventRecord&) {
                   if (status) return;
                   log_.Warn("event append failed", {{"error", status.error().message}});
                   // Tell the actor's sessions in this process that their action did not happen.
                   for (const auto& s : registry_.All()) {
                     if (s->character().id == session_hint)
                       s->Output("That did not happen: " + std::string(kUnavailable));
                   }
                 });
}

bool Game::Allowed(CoreSession& s, const std::string& command, bool admin_only) {
  const std::string& role = s.player().role;
  if (role == "admin" || (!admin_only && role == "builder")) return true;
  s.Output(admin_only ? "Only admins can use " + command + "."
                      : "Only builders and admins can use " + command + ".");
  return false;
}

std::string Game::DescribeLocation(const std::string& location_id) {
  auto view = stores_.world.ViewRoom(location_id);
  if (!view) return kUnavailable;
  const auto& [loc, exits, present] = *view;
  std::vector<std::string> exit_names;
  for (const auto& e : exits) {
    exit_names.push_back(e.aliases.empty() ? e.name : e.name + " (" + Join(e.aliases, ", ") + ")");
  }
  std::string out = loc.name + "\n";
  if (!loc.description.empty()) out += loc.description + "\n";
  out += "Exits: " + (exit_names.empty() ? std::string("none") : Join(exit_names, ", ")) + "\n";
  out += "Present: " + (present.empty() ? std::string("nobody") : Join(present, ", "));
  return out;
}

void Game::Look(CoreSession& s, const std::string& args) {
  const auto me = s.character();
  if (args.empty() || Lower(args) == "here") {
    s.Output(DescribeLocation(me.location_id));
    return;
  }
  auto present = stores_.world.PresentAt(me.location_id);
  if (!present) return s.Output(kUnavailable);
  for (const auto& name : *present) {
    if (Lower(name) == Lower(args)) return s.Output("You see " + name + ", here with you.");
  }
  auto exits = stores_.world.ExitsFrom(me.location_id);
  if (!exits) return s.Output(kUnavailable);
  for (const auto& e : *exits) {
    bool match = Lower(e.name) == Lower(args);
    for (const auto& a : e.aliases) match = match || Lower(a) == Lower(args);
    if (match) {
      auto to = stores_.world.GetLocation(e.to_location_id);
      return s.Output("The exit " + e.name + " leads to " + (to ? to->name : "somewhere") + ".");
    }
  }
  s.Output("You don't see '" + args + "' here.");
}

void Game::Say(CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Say what?");
  if (args.size() > kMaxMessage) return s.Output("That is too long to say at once.");
  Append(s, LocationStream(s.character().location_id), "say", {{"message", args}});
}

void Game::Pose(CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Pose what?");
  if (args.size() > kMaxMessage) return s.Output("That pose is too long.");
  Append(s, LocationStream(s.character().location_id), "pose", {{"action", args}});
}

void Game::SemiPose(CoreSession& s, const std::string& args) {
  if (Trim(args).empty()) return s.Output("Pose what?");
  if (args.size() > kMaxMessage) return s.Output("That pose is too long.");
  Append(s, LocationStream(s.character().location_id), "pose",
         {{"action", args}, {"nospace", true}});
}

void Game::Emit(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "emit", false)) return;
  if (args.empty()) return s.Output("Emit what?");
  if (args.size() > kMaxMessage) return s.Output("That is too long to emit.");
  Append(s, LocationStream(s.character().location_id), "emit", {{"text", args}});
}

void Game::Page(CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: page <name>=<message>");
  if (parts->second.size() > kMaxMessage) return s.Output("That page is too long.");
  auto target = stores_.world.FindCharacter(parts->first);
  if (!target) {
    if (target.error().kind == ErrorKind::kNotFound) {
      return s.Output("There is no character called '" + parts->first + "'.");
    }
    return s.Output(kUnavailable);
  }
  auto live = stores_.sessions.SessionsOf(target->id);
  if (!live) return s.Output(kUnavailable);
  if (live->empty()) return s.Output(target->name + " is not connected.");
  Append(s, CharacterStream(target->id), "page",
         {{"message", parts->second}, {"to", target->name}});
  s.Output("You page " + target->name + ": " + parts->second);
}

void Game::Go(CoreSession& s, const std::string& args) {
  if (args.empty()) return s.Output("Go where?");
  const auto me = s.character();
  auto candidates = stores_.world.ExitCandidates(me.location_id, args, TypoVariants(args));
  if (!candidates) return s.Output(kUnavailable);
  auto exit = RankExits(*candidates, options_.exit_match_threshold);
  if (!exit) return s.Output("You can't go '" + args + "' from here.");
  MoveThrough(s, *exit);
}

void Game::MoveThrough(CoreSession& s, const Exit& exit) {
  const auto me = s.character();
  if (auto moved = stores_.world.MoveCharacter(me.id, exit.to_location_id); !moved) {
    return s.Output(kUnavailable);
  }
  Append(s, LocationStream(me.location_id), "leave", {{"exit", exit.name}});
  s.SetLocation(exit.to_location_id);
  Append(s, LocationStream(exit.to_location_id), "arrive", {{"exit", exit.name}});
  s.Output(DescribeLocation(exit.to_location_id));
}

void Game::WhoCommand(CoreSession& s, const std::string&) {
  auto rows = stores_.sessions.Who();
  if (!rows) return s.Output(kUnavailable);
  std::ostringstream out;
  out << "Connected characters:\n";
  for (const auto& r : *rows) {
    std::string name = r.name;
    name.resize(std::max<size_t>(name.size(), 24), ' ');
    out << "  " << name << " idle " << FormatIdle(r.idle_seconds) << "\n";
  }
  out << rows->size() << (rows->size() == 1 ? " character" : " characters") << " connected.";
  s.Output(out.str());
}

void Game::Help(CoreSession& s, const std::string& args) {
  const auto& topics = HelpTopics();
  if (!args.empty()) {
    std::string topic = Lower(args);
    if (topic == "l") topic = "look";
    if (topic == "move") topic = "go";
    if (topic == "unalias" || topic == "aliases") topic = "alias";
    if (topic == "sysunalias" || topic == "sysaliases") topic = "sysalias";
    auto it = topics.find(topic);
    if (it == topics.end()) return s.Output("No help on '" + args + "'. Try 'help'.");
    return s.Output(std::string(it->second.usage) + "\n  " + it->second.text);
  }
  std::string out = "Commands:\n";
  for (const auto& [name, entry] : topics) {
    out += "  " + std::string(entry.usage) + "\n";
  }
  out +=
      "Also: unalias <name>, aliases, sysunalias <name>, sysaliases. 'help <command>' explains "
      "one.";
  s.Output(out);
}

void Game::Alias(CoreSession& s, const std::string& args) {
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: alias <name>=<command>");
  const std::string name = Lower(parts->first);
  if (!ValidAliasName(name)) {
    return s.Output("Alias names are one word of up to 32 letters, digits or _.+-.");
  }
  if (IsCommand(name)) return s.Output("'" + name + "' is a command; an alias cannot replace it.");
  if (parts->second.size() > 1000) return s.Output("That alias is too long.");
  const std::string player_id = s.player().id;
  // The database first, then the cache; if the cache refuses, undo the database write.
  auto previous = stores_.aliases.PutPlayerAlias(player_id, name, parts->second);
  if (!previous) return s.Output(kUnavailable);
  auto cached = aliases_.SetPlayer(player_id, name, parts->second);
  if (cached) return s.Output("Alias '" + name + "' set: " + parts->second);
  common::Status rollback = common::Ok{};
  if (*previous) {
    auto restored = stores_.aliases.PutPlayerAlias(player_id, name, **previous);
    if (!restored) rollback = restored.error();
  } else {
    auto deleted = stores_.aliases.DeletePlayerAlias(player_id, name);
    if (!deleted) rollback = deleted.error();
  }
  if (!rollback) {
    log_.Error("alias rollback failed - database-cache inconsistency",
               {{"severity", "critical"},
                {"alias", name},
                {"player_id", player_id},
                {"cache_error", cached.error().message},
                {"rollback_error", rollback.error().message}});
    metrics_.AliasRollbackFailed();
  }
  s.Output(cached.error().message + " Alias not set.");
}

void Game::Unalias(CoreSession& s, const std::string& args) {
  const std::string name = Lower(Trim(args));
  if (name.empty()) return s.Output("Usage: unalias <name>");
  auto removed = stores_.aliases.DeletePlayerAlias(s.player().id, name);
  if (!removed) return s.Output(kUnavailable);
  aliases_.RemovePlayer(s.player().id, name);
  s.Output(*removed ? "Alias '" + name + "' removed." : "You have no alias '" + name + "'.");
}

void Game::Aliases(CoreSession& s, const std::string&) {
  auto list = aliases_.ListPlayer(s.player().id);
  if (list.empty()) return s.Output("You have no aliases.");
  std::string out = "Your aliases:";
  for (const auto& [name, command] : list) out += "\n  " + name + " = " + command;
  s.Output(out);
}

void Game::SysAlias(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "sysalias", true)) return;
  auto parts = SplitAssignment(args);
  if (!parts || parts->second.empty()) return s.Output("Usage: sysalias <name>=<command>");
  const std::string name = Lower(parts->first);
  if (!ValidAliasName(name)) {
    return s.Output("Alias names are one word of up to 32 letters, digits or _.+-.");
  }
  if (IsCommand(name)) return s.Output("'" + name + "' is a command; an alias cannot replace it.");
  auto previous = stores_.aliases.PutSystemAlias(name, parts->second, s.player().id);
  if (!previous) return s.Output(kUnavailable);
  auto cached = aliases_.SetSystem(name, parts->second);
  if (cached) return s.Output("System alias '" + name + "' set: " + parts->second);
  common::Status rollback = common::Ok{};
  if (*previous) {
    auto restored = stores_.aliases.PutSystemAlias(name, **previous, s.player().id);
    if (!restored) rollback = restored.error();
  } else {
    auto deleted = stores_.aliases.DeleteSystemAlias(name);
    if (!deleted) rollback = deleted.error();
  }
  if (!rollback) {
    log_.Error("alias rollback failed - database-cache inconsistency",
               {{"severity", "critical"},
                {"alias", name},
                {"cache_error", cached.error().message},
                {"rollback_error", rollback.error().message}});
    metrics_.AliasRollbackFailed();
  }
  s.Output(cached.error().message + " Alias not set.");
}

void Game::SysUnalias(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "sysunalias", true)) return;
  const std::string name = Lower(Trim(args));
  if (name.empty()) return s.Output("Usage: sysunalias <name>");
  auto removed = stores_.aliases.DeleteSystemAlias(name);
  if (!removed) return s.Output(kUnavailable);
  aliases_.RemoveSystem(name);
  s.Output(*removed ? "System alias '" + name + "' removed."
                    : "There is no system alias '" + name + "'.");
}

void Game::SysAliases(CoreSession& s, const std::string&) {
  auto list = aliases_.ListSystem();
  if (list.empty()) return s.Output("There are no system aliases.");
  std::string out = "System aliases:";
  for (const auto& [name, command] : list) out += "\n  " + name + " = " + command;
  s.Output(out);
}

void Game::Dig(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "dig", false)) return;
  static const std::regex kDig(R"re(^(.+?)\s+to\s+"([^"]+)"(?:\s+return\s+(.+))?$)re",
                               std::regex::icase);
  std::smatch m;
  if (!std::regex_match(args, m, kDig)) {
    return s.Output("Usage: dig <exit> to \"<Location>\" [return <exit>]");
  }
  auto names = SplitNames(m[1].str());
  auto return_names = SplitNames(m[3].str());
  const std::string location = Trim(m[2].str());
  if (names.empty() || location.empty() || location.size() > 200) {
    return s.Output("Usage: dig <exit> to \"<Location>\" [return <exit>]");
  }
  auto loc = stores_.world.Dig(s.character().location_id, names, location, return_names);
  if (!loc) {
    if (loc.error().kind == ErrorKind::kConflict) {
      return s.Output("There is already an exit called that here.");
    }
    return s.Output(kUnavailable);
  }
  std::string out = "Dug \"" + loc->name + "\" through " + names[0] + ".";
  if (!return_names.empty()) out += " Return exit: " + return_names[0] + ".";
  s.Output(out);
}

void Game::Link(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "link", false)) return;
  static const std::regex kLink(R"(^(.+?)\s+to\s+(.+)$)", std::regex::icase);
  std::smatch m;
  if (!std::regex_match(args, m, kLink)) return s.Output("Usage: link <exit> to <location>");
  auto names = SplitNames(m[1].str());
  std::string target = Trim(m[2].str());
  if (target.size() >= 2 && target.front() == '"' && target.back() == '"') {
    target = target.substr(1, target.size() - 2);
  }
  if (names.empty() || target.empty()) return s.Output("Usage: link <exit> to <location>");
  auto loc = stores_.world.Link(s.character().location_id, names, target);
  if (!loc) {
    if (loc.error().kind == ErrorKind::kNotFound) {
      return s.Output("There is no location called '" + target + "'.");
    }
    if (loc.error().kind == ErrorKind::kConflict) {
      return s.Output("There is already an exit called that here.");
    }
    return s.Output(kUnavailable);
  }
  s.Output("Linked " + names[0] + " to " + loc->name + ".");
}

void Game::Describe(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "describe", false)) return;
  auto parts = SplitAssignment(args);
  if (!parts || Lower(parts->first) != "here") return s.Output("Usage: describe here=<text>");
  if (parts->second.size() > kMaxMessage) return s.Output("That description is too long.");
  if (!stores_.world.Describe(s.character().location_id, parts->second)) {
    return s.Output(kUnavailable);
  }
  s.Output("Description set.");
}

void Game::Boot(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "boot", true)) return;
  auto target = stores_.world.FindCharacter(Trim(args));
  if (!target) return s.Output("There is no character called '" + Trim(args) + "'.");
  auto live = stores_.sessions.SessionsOf(target->id);
  if (!live) return s.Output(kUnavailable);
  if (live->empty()) return s.Output(target->name + " is not connected.");
  // Whichever core process holds the target's session hears this and ends it.
  Append(s, CharacterStream(target->id), "boot", nlohmann::json::object());
  s.Output("You booted " + target->name + ".");
}

void Game::Wall(CoreSession& s, const std::string& args) {
  if (!Allowed(s, "wall", true)) return;
  if (args.empty()) return s.Output("Wall what?");
  Append(s, kSystemStream, "system", {{"text", args}});
}

void Game::Shutdown(CoreSession& s, const std::string&) {
  if (!Allowed(s, "shutdown", true)) return;
  log_.Warn("shutdown requested by admin", {{"player_id", s.player().id}});
  Append(s, kSystemStream, "system", {{"text", "The game is shutting down."}});
  s.Output("Shutting down.");
  if (request_shutdown_) request_shutdown_();
}

void Game::Quit(CoreSession& s, const std::string&) { EndSession(s, "Goodbye.", true); }

}  // namespace holomush::core
