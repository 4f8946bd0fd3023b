#include "game/game.hpp"

#include "game/command_parser.hpp"
#include "game/commands/command_table.hpp"

namespace holomush::core {
namespace {

constexpr size_t kMaxLine = 8192;
// How long who is present may be kept with no event saying it changed: the bound on what no
// event tells of (a character moved by hand in SQL, a dead replica's session expired).
constexpr std::chrono::seconds kPresenceMaxAge{5};

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

}  // namespace

Game::Game(Stores stores, EventWriter& writer, ListenHub& hub, SessionRegistry& registry,
           CoreMetrics& metrics, boost::asio::any_io_executor executor, GameOptions options,
           std::function<void()> request_shutdown)
    : stores_(stores),
      metrics_(metrics),
      options_(options),
      request_shutdown_(std::move(request_shutdown)),
      aliases_(&Game::IsCommand),
      world_([world = &stores_.world](const std::string& id) { return world->GetPlace(id); }),
      presence_([world = &stores_.world](const std::string& id) { return world->PresentAt(id); },
                kPresenceMaxAge),
      announcer_(writer, registry),
      accounts_(stores_.accounts, options_.login_backoff),
      sessions_(stores_, hub, registry, metrics, announcer_, presence_, std::move(executor),
                options_.session_linger) {
  hub.WatchEvents([this](const EventRecord& e) { presence_.OnEvent(e); });
}

bool Game::IsCommand(const std::string& word) { return FindCommand(word) != nullptr; }

// ---- aliases: loading and replication ----

common::Status Game::LoadAliases() {
  auto rows = stores_.aliases.AllAliases();
  if (!rows) return rows.error();
  // Into a fresh cache, then swapped in: aliases deleted while the listener was away go too.
  AliasCache loaded(&Game::IsCommand);
  for (const auto& r : *rows) {
    if (auto applied = loaded.Apply(r.player_id, r.alias, r.command); !applied) {
      log_.Warn(
          "alias in the database not loaded",
          {{"alias", r.alias}, {"player_id", r.player_id}, {"error", applied.error().message}});
    }
  }
  aliases_.ReplaceWith(std::move(loaded));
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

// ---- the dispatcher ----

void Game::Submit(const std::shared_ptr<CoreSession>& session, std::string line,
                  std::function<void()> done) {
  // Flood control: a refused command is answered at once and never queued, so one player
  // cannot grow this process's queues or crowd out the others.
  switch (session->AdmitCommand(options_.flood, std::chrono::steady_clock::now())) {
    case CoreSession::Admission::kAdmitted:
      break;
    case CoreSession::Admission::kTooFast:
      metrics_.CommandRefused("rate");
      session->Output("You are sending commands too fast; that one was not run.");
      if (done) done();
      return;
    case CoreSession::Admission::kBacklogged:
      metrics_.CommandRefused("backlog");
      session->Output(kServerBusy);
      if (done) done();
      return;
  }
  session->Post([this, session, line = std::move(line), done = std::move(done)] {
    Execute(session, CleanCommandLine(line));
    session->CommandDone();
    if (done) done();
  });
}

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
  if (const CommandSpec* spec = FindCommand(cmd.verb)) {
    metrics_.Command(std::string(spec->canonical));
    if (!RoleAllows(s.player().role, spec->role)) {
      s.Output(spec->role == Role::kAdmin ? "Only admins can use " + cmd.verb + "."
                                          : "Only builders and admins can use " + cmd.verb + ".");
      return;
    }
    spec->handler(*this, s, cmd.args);
    return;
  }
  if (commands::GoByExitName(*this, s, Trim(*expanded))) return;
  metrics_.Command("unknown");
  s.Output("Unknown command. Try 'help'.");
}

// ---- shared by the command families ----

void Game::Append(CoreSession& s, const std::string& stream, const std::string& type,
                  nlohmann::json payload) {
  announcer_.Append(stream, type, s.character(), std::move(payload));
}

std::string Game::DescribeLocation(const std::string& location_id) {
  auto known = world_.Get(location_id);
  if (!known) return kUnavailable;
  auto present = presence_.Get(location_id);
  if (!present) return kUnavailable;
  const Location& loc = (*known)->place.location;
  std::string out = loc.name + "\n";
  if (!loc.description.empty()) out += loc.description + "\n";
  out += (*known)->exits_line + "\n";
  out += "Present: " + ((*present)->empty() ? std::string("nobody") : Join(**present, ", "));
  return out;
}

}  // namespace holomush::core
