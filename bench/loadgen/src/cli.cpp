#include "holomush/loadgen/cli.hpp"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "holomush/loadgen/driver.hpp"
#include "holomush/loadgen/hold.hpp"
#include "holomush/loadgen/report.hpp"
#include "holomush/loadgen/setup.hpp"

namespace holomush::loadgen {
namespace {

std::pair<std::string, std::string> SplitPair(const std::string& text, const char* what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw CLI::ValidationError(what, "'" + text + "' is not name=value");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

}  // namespace

int LoadgenMain(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  CLI::App app{"HoloMUSH load generator: open-loop telnet players, timed to every recipient",
               "holomush-loadgen"};
  app.require_subcommand(1);

  RunConfig run;
  std::vector<std::string> watch, meta, measures;
  std::string json_path;
  auto* run_cmd = app.add_subcommand("run", "run one scenario against a server");
  run_cmd->add_option("--label", run.label, "scenario name in the report");
  run_cmd->add_option("--target", run.target, "holomush, tinymux or echo")->capture_default_str();
  run_cmd->add_option("--host", run.host)->capture_default_str();
  run_cmd->add_option("--port", run.port)->capture_default_str();
  run_cmd->add_option("--sessions", run.sessions, "players")->capture_default_str();
  run_cmd->add_option("--rate", run.rate, "actions per second per player (Poisson)")
      ->capture_default_str();
  run_cmd->add_option("--warmup", run.warmup_s, "seconds of load before measuring")
      ->capture_default_str();
  run_cmd->add_option("--duration", run.duration_s, "measured seconds")->capture_default_str();
  run_cmd->add_option("--drain", run.drain_s, "seconds to wait for late messages")
      ->capture_default_str();
  run_cmd->add_option("--mix", run.mix, "action weights")->capture_default_str();
  run_cmd->add_option("--rooms", run.rooms, "bench rooms in use")->capture_default_str();
  run_cmd->add_option("--zipf", run.zipf, "occupancy skew: 0 uniform, 1 Zipf")
      ->capture_default_str();
  run_cmd->add_option("--seed", run.seed)->capture_default_str();
  run_cmd->add_option("--prefix", run.prefix, "letters starting every player name")
      ->capture_default_str();
  run_cmd->add_option("--password", run.password)->capture_default_str();
  run_cmd->add_flag("!--connect", run.create, "log in to existing accounts instead of creating");
  run_cmd->add_option("--login-concurrency", run.login_concurrency)->capture_default_str();
  run_cmd->add_option("--login-timeout", run.login_timeout_s)->capture_default_str();
  run_cmd->add_option("--filler", run.filler_bytes, "bytes of text after each token")
      ->capture_default_str();
  run_cmd->add_option("--drop-fraction", run.drop_fraction, "share of players dropped per storm")
      ->capture_default_str();
  run_cmd->add_option("--drop-every", run.drop_every_s, "seconds between reconnect storms")
      ->capture_default_str();
  run_cmd->add_option("--drop-pause", run.drop_pause_s, "seconds offline before reconnecting")
      ->capture_default_str();
  run_cmd->add_option("--idle-steps", run.idle_steps, "idle memory: session counts, e.g. 100,1000")
      ->delimiter(',');
  run_cmd->add_option("--settle", run.settle_s, "seconds to settle before a memory sample")
      ->capture_default_str();
  run_cmd->add_option("--watch", watch, "name=pid: a server process (descendants included)");
  run_cmd->add_option("--meta", meta, "key=value recorded in the JSON (versions, settings)");
  run_cmd->add_option("--on-window-start", run.on_window_start,
                      "shell command run when the measured window opens");
  run_cmd->add_option("--on-window-end", run.on_window_end,
                      "shell command run when the measured window closes");
  run_cmd->add_option("--measure", measures,
                      "name=command: run after the load; its output is recorded as a number");
  run_cmd->add_flag("--accounts-only", run.accounts_only,
                    "log in and leave at once (makes accounts for a later --connect run)");
  run_cmd->add_option("--attack", run.attack,
                      "abuse: prelogin, wrongpass, flood or noread, from --attack-host");
  run_cmd->add_option("--attack-host", run.attack_host,
                      "the address the attacker connects to, and so comes from (not loopback)");
  run_cmd
      ->add_option("--attack-count", run.attack_count,
                   "attacker connections (0: 1000 prelogin, 20 wrongpass, 1 flood, 500 noread)")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-rate", run.attack_rate,
                   "wrongpass: attempts/s (0: 200); noread: commands/s per login (0: 9, within the "
                   "default command rate)")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-command", run.attack_command,
                   "noread: what the logged-in non-readers send (and never read)")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-lead", run.attack_lead_s,
                   "seconds the attack runs before the players log in")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-retry", run.attack_retry_s,
                   "seconds before a closed attacker connection comes back (0: never)")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-prefix", run.attack_prefix,
                   "name prefix of the attacker's existing accounts (flood, noread)")
      ->capture_default_str();
  run_cmd
      ->add_option("--attack-accounts", run.attack_accounts,
                   "noread: how many of the non-readers log in")
      ->capture_default_str();
  run_cmd->add_option("--attack-room", run.attack_room, "the room flood and noread go to")
      ->capture_default_str();
  run_cmd->add_option("--attack-rcvbuf", run.attack_rcvbuf, "noread: socket receive buffer bytes")
      ->capture_default_str();
  run_cmd->add_option("--json", json_path, "write the figures here");

  SetupConfig setup;
  auto* setup_cmd = app.add_subcommand("setup", "dig the bench rooms on a fresh server");
  setup_cmd->add_option("--target", setup.target)->capture_default_str();
  setup_cmd->add_option("--host", setup.host)->capture_default_str();
  setup_cmd->add_option("--port", setup.port)->capture_default_str();
  setup_cmd->add_option("--rooms", setup.rooms)->capture_default_str();
  setup_cmd->add_option("--admin", setup.admin, "HoloMUSH admin account")->capture_default_str();
  setup_cmd->add_option("--password", setup.password)->capture_default_str();

  HoldConfig hold;
  auto* hold_cmd = app.add_subcommand(
      "hold", "log existing accounts in and keep them idle until SIGTERM (HoloMUSH)");
  hold_cmd->add_option("--host", hold.host)->capture_default_str();
  hold_cmd->add_option("--port", hold.port)->capture_default_str();
  hold_cmd->add_option("--sessions", hold.sessions, "idle players")->required();
  hold_cmd->add_option("--prefix", hold.prefix, "letters starting every player name")
      ->capture_default_str();
  hold_cmd->add_option("--password", hold.password)->capture_default_str();
  hold_cmd->add_option("--login-concurrency", hold.login_concurrency)->capture_default_str();
  hold_cmd->add_option("--login-timeout", hold.login_timeout_s)->capture_default_str();

  ReportConfig report;
  auto* report_cmd = app.add_subcommand("report", "write RESULTS.md from a results folder");
  report_cmd->add_option("--results", report.results_dir, "folder of scenario JSON files")
      ->required();
  report_cmd->add_option("--out", report.out_path, "markdown file to (re)write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*run_cmd) {
      for (const auto& w : watch) {
        const auto [name, pid] = SplitPair(w, "--watch");
        run.watch[name] = static_cast<pid_t>(std::stol(pid));
      }
      for (const auto& m : meta) {
        const auto [key, value] = SplitPair(m, "--meta");
        run.meta[key] = value;
      }
      for (const auto& m : measures) {
        const auto [name, command] = SplitPair(m, "--measure");
        run.measures[name] = command;
      }
      const auto result = RunScenario(run);
      std::cout << Summary(result) << std::flush;
      if (!json_path.empty()) {
        std::ofstream out(json_path);
        out << result.dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write " + json_path);
      }
      return 0;
    }
    if (*setup_cmd) {
      BuildWorld(setup);
      std::cout << "built " << setup.rooms << " bench rooms on " << setup.target << "\n";
      return 0;
    }
    if (*hold_cmd) {
      const size_t held = HoldIdleSessions(
          hold, [](size_t n) { std::cout << "holding " << n << " idle sessions" << std::endl; });
      std::cout << "released " << held << " idle sessions\n";
      return 0;
    }
    if (*report_cmd) {
      WriteReport(report);
      std::cout << "wrote " << report.out_path << "\n";
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "holomush-loadgen: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace holomush::loadgen
