#include "holomush/loadgen/report.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace holomush::loadgen {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kBegin = "<!-- bench/run: generated from here -->";
constexpr const char* kEnd = "<!-- bench/run: generated up to here -->";
// The abuse runs have a block of their own, so that `bench/run --only abuse` rewrites it and
// leaves the other figures as they were (and the other scenarios leave it alone).
constexpr const char* kAbuseBegin = "<!-- bench/run abuse: generated from here -->";
constexpr const char* kAbuseEnd = "<!-- bench/run abuse: generated up to here -->";

// The scenario files of one run, by file stem ("holomush-s1000", "tinymux-hot50", ...).
class Results {
 public:
  explicit Results(const std::string& dir) {
    if (!fs::is_directory(dir)) throw std::runtime_error(dir + " is not a folder");
    for (const auto& entry : fs::directory_iterator(dir)) {
      const auto path = entry.path();
      if (path.extension() == ".json") {
        std::ifstream in(path);
        try {
          files_[path.stem().string()] = json::parse(in);
        } catch (const std::exception& e) {
          throw std::runtime_error("cannot read " + path.string() + ": " + e.what());
        }
      } else if (path.extension() == ".txt") {
        std::ifstream in(path);
        std::stringstream buf;
        buf << in.rdbuf();
        texts_[path.stem().string()] = buf.str();
      }
    }
  }
  const json* Get(const std::string& stem) const {
    auto it = files_.find(stem);
    return it == files_.end() ? nullptr : &it->second;
  }
  // A file of the main scenarios (not of the abuse runs), for the machine and versions.
  const json* Any() const {
    for (const auto& [stem, file] : files_) {
      if (!IsAbuse(stem)) return &file;
    }
    return nullptr;
  }
  bool HasAbuse() const {
    for (const auto& [stem, file] : files_) {
      if (IsAbuse(stem)) return true;
    }
    return false;
  }
  static bool IsAbuse(const std::string& stem) { return stem.rfind("abuse-", 0) == 0; }
  std::string Text(const std::string& stem) const {
    auto it = texts_.find(stem);
    return it == texts_.end() ? "" : it->second;
  }

 private:
  std::map<std::string, json> files_;
  std::map<std::string, std::string> texts_;
};

std::string Num(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// 12345.6 -> "12,346".
std::string Int(double v) {
  std::string s = std::to_string(static_cast<long long>(std::llround(v)));
  const bool neg = !s.empty() && s[0] == '-';
  for (int i = static_cast<int>(s.size()) - 3; i > (neg ? 1 : 0); i -= 3) {
    s.insert(static_cast<size_t>(i), ",");
  }
  return s;
}

double D(const json* r, std::initializer_list<const char*> path, double fallback = NAN) {
  if (r == nullptr) return fallback;
  const json* at = r;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return fallback;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<double>() : fallback;
}

std::string Ms(const json* r, const char* kind, const char* stat) {
  const double v = D(r, {"latency", kind, stat});
  if (std::isnan(v) || D(r, {"latency", kind, "count"}, 0) == 0) return "–";
  return v < 10 ? Num(v, 2) : Num(v, 1);
}

std::string Ratio(double ours, double theirs) {
  if (std::isnan(ours) || std::isnan(theirs) || theirs <= 0) return "–";
  return Num(ours / theirs, 2) + "×";
}

double ServerCpu(const json* r) {
  double sum = 0;
  if (r == nullptr || !r->contains("servers")) return NAN;
  for (const auto& [name, s] : (*r)["servers"].items()) sum += s.value("cpu_seconds", 0.0);
  return sum;
}

std::string MemoryCell(const json* r) {
  if (r == nullptr || !r->contains("servers")) return "–";
  double peak = 0, pss = 0;
  for (const auto& [name, s] : (*r)["servers"].items()) {
    peak += s.value("peak_rss_kb", 0.0);
    pss += s.value("pss_end_kb", 0.0);
  }
  return Num(peak / 1024, 0) + " (" + Num(pss / 1024, 0) + ")";
}

std::string CpuBreakdown(const json* r) {
  if (r == nullptr || !r->contains("servers")) return "–";
  std::string out;
  for (const auto& [name, s] : (*r)["servers"].items()) {
    if (!out.empty()) out += " + ";
    out += name + " " + Num(s.value("cpu_seconds", 0.0), 1);
  }
  return out;
}

double AllLost(const json* r) {
  return D(r, {"deliveries", "lost"}, 0) + D(r, {"deliveries", "lost_at_drop"}, 0) +
         D(r, {"deliveries", "lost_connection_failed"}, 0) +
         D(r, {"deliveries", "lost_while_offline"}, 0);
}

std::string Lost(const json* r) {
  if (r == nullptr) return "–";
  return Int(AllLost(r)) + " of " + Int(D(r, {"deliveries", "expected"}, 0));
}

double EventsPerSecond(const json* r) {
  const double events = D(r, {"measures", "persisted_events"});
  const double window = D(r, {"load", "window_s"});
  return window > 0 ? events / window : NAN;
}

// The idle sessions held beside the load (bench/run's s1000idle), as "10,000"; "" for none.
std::string IdleCrowd(const json* r) {
  if (r == nullptr || !r->contains("meta")) return "";
  const std::string n = (*r)["meta"].value("idle_crowd", std::string());
  return n.empty() ? "" : Int(std::stod(n));
}

std::string Describe(const json* r) {
  if (r == nullptr) return "";
  const auto& c = (*r)["config"];
  std::string out =
      Int(c.value("sessions", 0.0)) + " sessions × " +
      Num(c.value("rate_per_session", 0.0), c.value("rate_per_session", 0.0) < 1 ? 1 : 0) + "/s, " +
      Int(c.value("rooms", 0.0)) + (c.value("rooms", 0) == 1 ? " room" : " rooms");
  if (c.value("zipf", 1.0) == 0) out += " (uniform)";
  if (c.value("mix", std::string()) != "say=40,pose=20,look=20,move=10,page=10") {
    out += ", " + c.value("mix", std::string());
  }
  if (c.value("drop_fraction", 0.0) > 0) {
    out += ", " + Num(c.value("drop_fraction", 0.0) * 100, 0) + " % dropped every " +
           Num(c.value("drop_every_s", 0.0), 1) + " s";
  }
  if (const std::string crowd = IdleCrowd(r); !crowd.empty()) {
    out += ", beside " + crowd + " idle sessions in rooms of their own";
  }
  return out;
}

struct MemoryStep {
  double sessions = 0;
  std::map<std::string, double> rss_kb;
};

std::vector<MemoryStep> Steps(const json* r) {
  std::vector<MemoryStep> out;
  if (r == nullptr) return out;
  for (const auto& step : (*r)["memory"]["steps"]) {
    MemoryStep m;
    m.sessions = step.value("sessions", 0.0);
    if (step["groups"].is_object()) {
      // Pss where the kernel gave it: PostgreSQL's shared buffers count once, not per backend.
      for (const auto& [name, g] : step["groups"].items()) {
        const double pss = g.value("pss_kb", 0.0);
        m.rss_kb[name] = pss > 0 ? pss : g.value("rss_kb", 0.0);
      }
    }
    out.push_back(m);
  }
  return out;
}

// kB per session between the first and last idle step, for the named groups summed.
double PerSessionKb(const json* r, const std::vector<std::string>& groups) {
  const auto steps = Steps(r);
  if (steps.size() < 2 || steps.back().sessions <= steps.front().sessions) return NAN;
  double delta = 0;
  for (const auto& g : groups) {
    auto a = steps.front().rss_kb.find(g);
    auto b = steps.back().rss_kb.find(g);
    if (a == steps.front().rss_kb.end() || b == steps.back().rss_kb.end()) return NAN;
    delta += b->second - a->second;
  }
  return delta / (steps.back().sessions - steps.front().sessions);
}

std::string Verdict(bool met) { return met ? "**met**" : "**missed**"; }

// The goals of the fan-out work, each against TinyMUX in the same run where it names it.
void Goals(std::ostream& o, const Results& r) {
  const json* s1000 = r.Get("holomush-s1000");
  const json* mux1000 = r.Get("tinymux-s1000");
  const json* x1 = r.Get("holomush-s1000x1");
  const json* mux_x1 = r.Get("tinymux-s1000x1");
  const json* events = r.Get("holomush-events");
  const json* idle = r.Get("holomush-idle");
  const json* crowd = r.Get("holomush-s1000idle");
  auto say = [](const json* x, const char* stat) { return D(x, {"latency", "say", stat}); };
  // "3.51 ms (TinyMUX 2.77 ms: 1.27×)", or without TinyMUX when it did not run.
  auto against = [&](const json* ours, const json* mux, const char* stat) {
    std::string out = Ms(ours, "say", stat) + " ms";
    if (mux != nullptr) {
      out += " (TinyMUX " + Ms(mux, "say", stat) +
             " ms: " + Ratio(say(ours, stat), say(mux, stat)) + ")";
    }
    return out;
  };
  // At most `limit` and, when TinyMUX ran, at most its figure.
  auto within = [&](const json* ours, const json* mux, const char* stat, double limit) {
    const double v = say(ours, stat);
    return v <= limit && (mux == nullptr || v <= say(mux, stat));
  };
  o << "### Goals (HoloMUSH, synchronous_commit on, loopback, this machine)\n\n"
    << "| Goal | Target | Measured | Verdict |\n|---|---|---|---|\n";
  if (s1000 != nullptr) {
    o << "| s1000: say → recipient p50 | ≤ 2 ms and ≤ TinyMUX | "
      << against(s1000, mux1000, "p50_ms") << " | " << Verdict(within(s1000, mux1000, "p50_ms", 2))
      << " |\n";
    o << "| s1000: say → recipient p99 | ≤ 10 ms and ≤ TinyMUX | "
      << against(s1000, mux1000, "p99_ms") << " | " << Verdict(within(s1000, mux1000, "p99_ms", 10))
      << " |\n";
  }
  if (x1 != nullptr) {
    // Saturated: a queue builds, so lines arrive late (p50 past 50 ms) or not at all.
    o << "| s1000x1: no saturation | every line arrives, p50 ≤ 50 ms | p50 "
      << Ms(x1, "say", "p50_ms") << " ms, " << Lost(x1) << " not received | "
      << Verdict(AllLost(x1) == 0 && say(x1, "p50_ms") <= 50) << " |\n";
    if (mux_x1 != nullptr) {
      o << "| s1000x1: say → recipient p99 | ≤ TinyMUX | " << against(x1, mux_x1, "p99_ms") << " | "
        << Verdict(say(x1, "p99_ms") <= say(mux_x1, "p99_ms")) << " |\n";
      const double ours = ServerCpu(x1), theirs = ServerCpu(mux_x1);
      o << "| s1000x1: server CPU (core + gateway + PostgreSQL) | ≤ 1.5 × TinyMUX | "
        << Num(ours, 1) << " s (" << CpuBreakdown(x1) << ") against " << Num(theirs, 1)
        << " s: " << Ratio(ours, theirs) << " | " << Verdict(ours <= 1.5 * theirs) << " |\n";
    }
  }
  if (events != nullptr) {
    const double eps = EventsPerSecond(events);
    o << "| persisted events/s, sustained, say p99 ≤ 50 ms | ≥ 20,000/s | " << Int(eps)
      << "/s (offered " << Int(D(events, {"load", "actions_per_s"})) << " says/s; say p99 "
      << Ms(events, "say", "p99_ms") << " ms) | "
      << Verdict(eps >= 20000 && say(events, "p99_ms") <= 50) << " |\n";
  }
  if (idle != nullptr) {
    const double kb = PerSessionKb(idle, {"core", "gateway"});
    o << "| user-space memory per idle session (core + gateway PSS, marginal) | ≤ 20 kB | "
      << Num(kb, 1) << " kB (PostgreSQL: " << Num(PerSessionKb(idle, {"postgres"}), 1) << " kB) | "
      << Verdict(kb <= 20) << " |\n";
  }
  if (crowd != nullptr && s1000 != nullptr) {
    const double p99 = say(crowd, "p99_ms"), base = say(s1000, "p99_ms");
    o << "| s1000 beside " << IdleCrowd(crowd)
      << " idle sessions: say p99 | within 20 % of s1000 | " << Ms(crowd, "say", "p99_ms")
      << " ms against " << Ms(s1000, "say", "p99_ms") << " ms: " << Ratio(p99, base) << " | "
      << Verdict(p99 <= 1.2 * base) << " |\n";
  }
  o << "\n";
}

const std::vector<std::string> kScenarios = {"s100",  "s1000",     "s1000idle", "s1000x1",
                                             "hot50", "reconnect", "events"};

void LatencyTable(std::ostream& o, const Results& r) {
  o << "### Say → each recipient, from the due time (ms)\n\n"
    << "Ratios are HoloMUSH / TinyMUX: below 1 means HoloMUSH is faster.\n\n"
    << "| Scenario | Load | HoloMUSH p50 | p99 | p99.9 | max | TinyMUX p50 | p99 | p99.9 | max "
       "| ratio p50 | ratio p99 |\n"
    << "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : kScenarios) {
    const json* ours = r.Get("holomush-" + s);
    const json* mux = r.Get("tinymux-" + s);
    if (ours == nullptr && mux == nullptr) continue;
    o << "| " << s << " | " << Describe(ours != nullptr ? ours : mux) << " | "
      << Ms(ours, "say", "p50_ms") << " | " << Ms(ours, "say", "p99_ms") << " | "
      << Ms(ours, "say", "p999_ms") << " | " << Ms(ours, "say", "max_ms") << " | "
      << Ms(mux, "say", "p50_ms") << " | " << Ms(mux, "say", "p99_ms") << " | "
      << Ms(mux, "say", "p999_ms") << " | " << Ms(mux, "say", "max_ms") << " | "
      << Ratio(D(ours, {"latency", "say", "p50_ms"}), D(mux, {"latency", "say", "p50_ms"})) << " | "
      << Ratio(D(ours, {"latency", "say", "p99_ms"}), D(mux, {"latency", "say", "p99_ms"}))
      << " |\n";
  }
  o << "\nOther timings, HoloMUSH vs TinyMUX (p50 / p99, ms): the speaker's own echo "
       "(`You say`) is a round trip through the event path; `look` is a round trip that "
       "writes no event; a move is `go out` + `go b<n>` until the new room's title.\n\n"
    << "| Scenario | say echo | look | pose → recipient | page → target | move |\n"
    << "|---|---|---|---|---|---|\n";
  for (const auto& s : kScenarios) {
    const json* ours = r.Get("holomush-" + s);
    const json* mux = r.Get("tinymux-" + s);
    if (ours == nullptr && mux == nullptr) continue;
    o << "| " << s;
    for (const char* kind : {"say_echo", "look", "pose", "page", "move"}) {
      o << " | " << Ms(ours, kind, "p50_ms") << " / " << Ms(ours, kind, "p99_ms") << " vs "
        << Ms(mux, kind, "p50_ms") << " / " << Ms(mux, kind, "p99_ms");
    }
    o << " |\n";
  }
  o << "\n";
}

void CostTable(std::ostream& o, const Results& r) {
  o << "### Throughput and cost over the measured window\n\n"
    << "CPU is seconds used by the server's processes during the window (PostgreSQL: "
       "postmaster and every backend). Memory is the highest sampled sum of RSS over the run, "
       "logins included, and in brackets the sum of PSS at the end (RSS counts PostgreSQL's "
       "shared buffers once per backend; PSS shares them out). Not received: timed messages "
       "an expected recipient still had not seen 10 s after the window closed (lost, or "
       "queued behind a backlog), out of all expected receipts. Other CPU s: what the rest of "
       "the machine (other people's builds and tests) used during the window, out of 2 × the "
       "window's seconds: the noise under each row.\n\n"
    << "| Scenario | Server | Actions/s | Lines/s | Persisted events/s | Not received | CPU s | "
       "Other CPU s | Peak RSS (PSS) MiB |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : kScenarios) {
    for (const std::string target : {"holomush", "holomush-async", "tinymux"}) {
      const json* x = r.Get(target + "-" + s);
      if (x == nullptr) continue;
      const double eps = EventsPerSecond(x);
      o << "| " << s << " | " << target << " | " << Num(D(x, {"load", "actions_per_s"}), 1) << " | "
        << Int(D(x, {"load", "lines_per_s"})) << " | " << (std::isnan(eps) ? "–" : Int(eps))
        << " | " << Lost(x) << " | " << CpuBreakdown(x) << " | "
        << Num(D(x, {"machine", "other_cpu_seconds"}), 1) << " | " << MemoryCell(x) << " |\n";
    }
  }
  o << "\n";
}

void SyncTable(std::ostream& o, const Results& r) {
  bool any = false;
  for (const auto& s : kScenarios) any |= r.Get("holomush-async-" + s) != nullptr;
  if (!any) return;
  o << "### HoloMUSH with synchronous_commit on and off\n\n"
    << "| Scenario | say p50 on / off | say p99 on / off | echo p50 on / off | events/s on / off "
       "| server CPU s on / off |\n|---|---|---|---|---|---|\n";
  for (const auto& s : kScenarios) {
    const json* on = r.Get("holomush-" + s);
    const json* off = r.Get("holomush-async-" + s);
    if (off == nullptr) continue;
    o << "| " << s << " | " << Ms(on, "say", "p50_ms") << " / " << Ms(off, "say", "p50_ms") << " | "
      << Ms(on, "say", "p99_ms") << " / " << Ms(off, "say", "p99_ms") << " | "
      << Ms(on, "say_echo", "p50_ms") << " / " << Ms(off, "say_echo", "p50_ms") << " | "
      << Int(EventsPerSecond(on)) << " / " << Int(EventsPerSecond(off)) << " | "
      << Num(ServerCpu(on), 1) << " / " << Num(ServerCpu(off), 1) << " |\n";
  }
  o << "\n";
}

void ReconnectTable(std::ostream& o, const Results& r) {
  const json* ours = r.Get("holomush-reconnect");
  const json* mux = r.Get("tinymux-reconnect");
  if (ours == nullptr && mux == nullptr) return;
  auto row = [&](const std::string& name, auto value) {
    o << "| " << name << " | " << value(ours) << " | " << value(mux) << " |\n";
  };
  o << "### Reconnect storm\n\n"
    << Describe(ours != nullptr ? ours : mux) << ".\n\n"
    << "| | HoloMUSH | TinyMUX |\n|---|---|---|\n";
  row("players dropped (connection reset)", [](const json* x) {
    return x ? Int(D(x, {"reconnect", "dropped"}, 0)) : "–";
  });
  row("reconnect to room title, p50 / p99 ms", [](const json* x) {
    return x ? Ms(x, "resume", "p50_ms") + " / " + Ms(x, "resume", "p99_ms") : "–";
  });
  row("messages for players while offline: delivered after reconnecting", [](const json* x) {
    return x ? Int(D(x, {"latency", "replayed", "count"}, 0)) : "–";
  });
  row("… never delivered", [](const json* x) {
    return x ? Int(D(x, {"deliveries", "lost_while_offline"}, 0)) : "–";
  });
  row("messages in flight at the drop, lost", [](const json* x) {
    return x ? Int(D(x, {"deliveries", "lost_at_drop"}, 0)) : "–";
  });
  row("other messages lost", [](const json* x) {
    return x ? Int(D(x, {"deliveries", "lost"}, 0) +
                   D(x, {"deliveries", "lost_connection_failed"}, 0))
             : "–";
  });
  row("duplicates", [](const json* x) {
    return x ? Int(D(x, {"deliveries", "duplicates"}, 0)) : "–";
  });
  row("say p99 ms during the storms",
      [](const json* x) { return x ? Ms(x, "say", "p99_ms") : "–"; });
  o << "\n";
}

void MemoryTable(std::ostream& o, const Results& r) {
  const json* ours = r.Get("holomush-idle");
  const json* mux = r.Get("tinymux-idle");
  if (ours == nullptr && mux == nullptr) return;
  o << "### Memory per idle session\n\n"
    << "Proportional resident memory (PSS, summed over the process and its children) after "
       "logging in the first and the last step of idle sessions, settled; per session is the "
       "difference divided by the sessions added, so start-up and one-time costs (allocator "
       "arenas, caches, argon2's 19 MiB buffers) drop out.\n\n"
    << "| Server | Process | PSS at first step MiB | PSS at last step MiB | per session kB |\n"
    << "|---|---|---|---|---|\n";
  for (const auto& [name, x] : {std::pair{"HoloMUSH", ours}, std::pair{"TinyMUX", mux}}) {
    const auto steps = Steps(x);
    if (steps.size() < 2) continue;
    for (const auto& [group, kb] : steps.front().rss_kb) {
      const double last = steps.back().rss_kb.count(group) ? steps.back().rss_kb.at(group) : NAN;
      o << "| " << name << " (" << Int(steps.front().sessions) << " → "
        << Int(steps.back().sessions) << ") | " << group << " | " << Num(kb / 1024, 1) << " | "
        << Num(last / 1024, 1) << " | " << Num(PerSessionKb(x, {group}), 1) << " |\n";
    }
  }
  o << "\n";
}

void CeilingTable(std::ostream& o, const Results& r) {
  const std::vector<std::string> names = {"echo-ceiling-1000x1", "echo-ceiling-1000x3",
                                          "echo-ceiling-1000x10"};
  bool any = false;
  for (const auto& name : names) any |= r.Get(name) != nullptr;
  if (!any) return;
  o << "### The load generator's ceiling (against the echo server)\n\n"
    << "The echo server is a trivial single-threaded MUSH that does no work beyond fan-out, so "
       "these runs show how much the load generator itself can drive and how much latency it "
       "adds on this machine (both share the same 2 cores).\n\n"
    << "| Run | Actions/s | Lines/s | say p50 / p99 / max ms | loadgen CPU | schedule lag p99 / "
       "max ms | lines per loadgen CPU second | other CPU s |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& name : names) {
    const json* x = r.Get(name);
    if (x == nullptr) continue;
    const double cpu = D(x, {"loadgen", "cpu_seconds"});
    const double lines = D(x, {"load", "lines"});
    o << "| " << Describe(x) << " | " << Int(D(x, {"load", "actions_per_s"})) << " | "
      << Int(D(x, {"load", "lines_per_s"})) << " | " << Ms(x, "say", "p50_ms") << " / "
      << Ms(x, "say", "p99_ms") << " / " << Ms(x, "say", "max_ms") << " | "
      << Num(D(x, {"loadgen", "cpu_util"}) * 100, 1) << " % | "
      << Num(D(x, {"loadgen", "schedule_lag", "p99_ms"}), 3) << " / "
      << Num(D(x, {"loadgen", "schedule_lag", "max_ms"}), 3) << " | "
      << (cpu > 0 ? Int(lines / cpu) : "–") << " | "
      << Num(D(x, {"machine", "other_cpu_seconds"}), 1) << " |\n";
  }
  o << "\n";
}

// "1,234 (5.6%)  path/file.cpp:ns::Fn<long args>(more args) [/usr/lib/lib.so]" becomes
// "1,234 (5.6%)  ns::Fn<…>(…)"; empty when the frame is dispatch plumbing (asio, std::function).
std::string ShortFrame(const std::string& line) {
  const size_t pct = line.find("%)");
  if (pct == std::string::npos) return "";
  const std::string cost = line.substr(0, pct + 2);
  std::string rest = line.substr(pct + 2);
  while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  if (rest.rfind("PROGRAM TOTALS", 0) == 0) return cost + "  PROGRAM TOTALS";
  if (const size_t colon = rest.find(':'); colon != std::string::npos) rest.erase(0, colon + 1);
  std::string library;
  if (const size_t lib = rest.rfind(" ["); lib != std::string::npos && rest.back() == ']') {
    library = rest.substr(lib + 2, rest.size() - lib - 3);
    library = library.substr(library.rfind('/') + 1);
    rest.erase(lib);
  }
  // An address without a symbol: say at least which library it is in.
  if (rest.rfind("0x", 0) == 0 && !library.empty()) return cost + "  (" + library + ")";
  // Template and parameter lists collapse to "<…>" and "(…)"; empty ones stay "()".
  std::string fn;
  int depth = 0;
  bool inner = false;
  for (char c : rest) {
    if (c == '<' || c == '(') {
      if (depth++ == 0) {
        fn += c;
        inner = false;
      }
      continue;
    }
    if ((c == '>' || c == ')') && depth > 0) {
      if (--depth == 0) fn += inner ? std::string("…") + c : std::string(1, c);
      continue;
    }
    if (depth == 0) {
      fn += c;
    } else {
      inner = true;
    }
  }
  for (const char* plumbing :
       {"boost::asio::detail", "std::_Function_handler", "std::__invoke", "std::function",
        "void boost::asio::detail", "non-virtual thunk", "std::thread", "start_thread", "clone3",
        "execute_native_thread_routine", "void std::__invoke"}) {
    if (fn.rfind(plumbing, 0) == 0) return "";
  }
  if (fn.size() > 120) fn = fn.substr(0, 117) + "...";
  return cost + "  " + fn;
}

void Profile(std::ostream& o, const Results& r) {
  const std::string text = r.Text("profile");
  if (text.empty()) return;
  o << "### Where the time goes (callgrind, 40 sessions × 2/s, measured window only)\n\n"
    << "Instructions executed (Ir) by core and gateway while the load ran, inclusive (a "
       "function and everything it called) and self; dispatch plumbing (asio, std::function) "
       "is left out. Time inside PostgreSQL is not in these figures: see the CPU split "
       "above.\n\n"
    << "```\n";
  std::istringstream in(text);
  std::vector<std::string> seen;
  int shown = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("###", 0) == 0 || line.rfind("profiler:", 0) == 0) {
      o << (line.rfind("###", 0) == 0 ? "\n" : "") << line << "\n";
      seen.clear();
      shown = 0;
      continue;
    }
    const std::string frame = ShortFrame(line);
    if (frame.empty() || shown >= 22) continue;
    const std::string fn = frame.substr(frame.find("  ") + 2);
    if (std::find(seen.begin(), seen.end(), fn) != seen.end()) continue;
    seen.push_back(fn);
    ++shown;
    o << frame << "\n";
  }
  o << "```\n\n";
}

// The value of one sample line of Prometheus text ("name{labels} value"); NAN when absent.
double Metric(const std::string& text, const std::string& sample) {
  size_t at = 0;
  while ((at = text.find(sample, at)) != std::string::npos) {
    const bool line_start = at == 0 || text[at - 1] == '\n';
    const size_t end = at + sample.size();
    if (line_start && end < text.size() && text[end] == ' ') {
      try {
        return std::stod(text.substr(end + 1, text.find('\n', end) - end - 1));
      } catch (const std::exception&) {
        return NAN;
      }
    }
    at = end;
  }
  return NAN;
}

void CoreInside(std::ostream& o, const Results& r) {
  bool any = false;
  for (const auto& s : kScenarios) any |= !r.Text("holomush-" + s + ".core-metrics").empty();
  if (!any) return;
  o << "### Inside core (its own metrics over the measured window)\n\n"
    << "Command time is from the command's arrival on core's gRPC stream to the end of its "
       "handler (database calls included; delivery to other players not); events per commit "
       "is the group commit's batch size.\n\n"
    << "| Scenario | commands/s | mean command time ms | events/s | mean events per commit |\n"
    << "|---|---|---|---|---|\n";
  for (const std::string target : {"holomush", "holomush-async"}) {
    for (const auto& s : kScenarios) {
      const std::string end = r.Text(target + "-" + s + ".core-metrics");
      const std::string start = r.Text(target + "-" + s + ".core-metrics-start");
      const json* x = r.Get(target + "-" + s);
      const double window = D(x, {"load", "window_s"});
      if (end.empty() || start.empty() || !(window > 0)) continue;
      auto delta = [&](const std::string& sample) {
        return Metric(end, sample) - Metric(start, sample);
      };
      const double cmd_sum = delta("holomush_grpc_latency_seconds_sum{method=\"Gateway\"}");
      const double cmd_n = delta("holomush_grpc_latency_seconds_count{method=\"Gateway\"}");
      const double ev_sum = delta("holomush_event_append_batch_size_sum");
      const double ev_n = delta("holomush_event_append_batch_size_count");
      o << "| " << s << (target == "holomush" ? "" : " (synchronous_commit off)") << " | "
        << Int(cmd_n / window) << " | " << (cmd_n > 0 ? Num(cmd_sum / cmd_n * 1000, 2) : "–")
        << " | " << Int(ev_sum / window) << " | " << (ev_n > 0 ? Num(ev_sum / ev_n, 1) : "–")
        << " |\n";
    }
  }
  o << "\n";
}

void Statements(std::ostream& o, const Results& r) {
  bool any = false;
  for (const auto* s : {"events", "s1000x1"})
    any |= !r.Text(std::string("holomush-") + s + ".pgstat").empty();
  if (!any) return;
  o << "### PostgreSQL during the window (pg_stat_statements, synchronous_commit on)\n\n";
  for (const auto* s : {"events", "s1000x1"}) {
    const std::string text = r.Text(std::string("holomush-") + s + ".pgstat");
    if (text.empty()) continue;
    o << "`" << s << "`:\n\n```\n" << text << (text.back() == '\n' ? "" : "\n") << "```\n\n";
  }
}

std::string Generated(const Results& r) {
  std::ostringstream o;
  const json* any = r.Any();
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  o << kBegin << "\n\n## Figures (bench/run, " << date << ")\n\n";
  if (any != nullptr) {
    const auto& meta = (*any)["meta"];
    const auto& c = (*any)["config"];
    auto m = [&](const char* key) { return meta.value(key, std::string("?")); };
    o << "Machine: " << m("cpus") << " × " << m("cpu_model") << ", Linux " << m("kernel")
      << ", load average at start " << m("loadavg_at_start") << ". HoloMUSH "
      << m("holomush_version") << " (" << m("git_commit") << ", " << m("build") << "), "
      << m("postgresql_version") << ", TinyMUX " << m("tinymux_version")
      << ". Each scenario: " << Num(c.value("warmup_s", 0.0), 0) << " s warm-up, "
      << Num(c.value("duration_s", 0.0), 0) << " s measured, seed " << c.value("seed", 0)
      << "; the load generator, the servers and PostgreSQL share the "
      << "machine.\n\n";
  }
  Goals(o, r);
  LatencyTable(o, r);
  CostTable(o, r);
  SyncTable(o, r);
  ReconnectTable(o, r);
  MemoryTable(o, r);
  CeilingTable(o, r);
  CoreInside(o, r);
  Profile(o, r);
  Statements(o, r);
  o << kEnd << "\n";
  return o.str();
}

// ---- abuse -------------------------------------------------------------------------

const std::vector<std::string> kAttacks = {"quiet", "prelogin", "wrongpass", "flood", "noread"};

std::string AttackDescription(const json* r, const std::string& run) {
  const json* a = r != nullptr && r->contains("attack") ? &(*r)["attack"] : nullptr;
  auto n = [&](const char* key) { return Int(a != nullptr ? a->value(key, 0.0) : 0.0); };
  if (run == "quiet") return "nobody (the baseline)";
  if (run == "prelogin") return n("connections") + " connections that never log in, held open";
  if (run == "wrongpass") {
    return "`connect <player> <wrong password>` at " + n("rate") + "/s over " + n("connections") +
           " connections, round the players' own names";
  }
  if (run == "flood") return "one logged-in player sending `say` as fast as its socket allows";
  if (run == "noread") {
    return n("connections") + " connections that never read (the first " +
           Int(r != nullptr ? D(r, {"config", "attack_accounts"}, 0) : 0) +
           " log in, walk into the busiest room and send `" +
           (a != nullptr ? a->value("command", std::string("?")) : std::string("?")) + "` " +
           n("rate") + " times a second)";
  }
  return run;
}

double PeakMiB(const json* r, const std::string& group) {
  return D(r, {"servers", group.c_str(), "peak_rss_kb"}) / 1024;
}

// "3.1×" against the quiet run, or "–".
std::string Times(double value, double quiet) {
  if (std::isnan(value) || std::isnan(quiet) || quiet <= 0) return "–";
  return Num(value / quiet, 1) + "×";
}

// One counter's growth over the run, from the metrics scraped before and after it.
double MetricDelta(const Results& r, const std::string& run, const std::string& part,
                   const std::string& sample) {
  const std::string end = r.Text("abuse-" + run + "." + part + "-metrics");
  const std::string start = r.Text("abuse-" + run + "." + part + "-metrics-start");
  if (end.empty()) return NAN;
  const double before = start.empty() ? 0 : Metric(start, sample);
  return Metric(end, sample) - (std::isnan(before) ? 0 : before);
}

std::string ServerView(const Results& r, const std::string& run) {
  std::string out;
  auto add = [&](const char* what, double v) {
    if (std::isnan(v) || v <= 0) return;
    if (!out.empty()) out += "; ";
    out += std::string(what) + " " + Int(v);
  };
  add("connections refused (per address)",
      MetricDelta(
          r, run, "gateway",
          "holomush_gateway_connections_refused_total{protocol=\"telnet\",reason=\"address\"}"));
  add("connections refused (server full)",
      MetricDelta(
          r, run, "gateway",
          "holomush_gateway_connections_refused_total{protocol=\"telnet\",reason=\"limit\"}"));
  add("logins refused (per-address rate)",
      MetricDelta(r, run, "gateway",
                  "holomush_gateway_logins_refused_total{reason=\"login_rate\"}"));
  add("closed as slow readers",
      MetricDelta(
          r, run, "gateway",
          "holomush_gateway_disconnects_total{protocol=\"telnet\",reason=\"slow_reader\"}"));
  add("closed at the login timeout",
      MetricDelta(
          r, run, "gateway",
          "holomush_gateway_disconnects_total{protocol=\"telnet\",reason=\"login_timeout\"}"));
  const double in =
      MetricDelta(r, run, "gateway", "holomush_gateway_bytes_received_total{protocol=\"telnet\"}");
  const double sent =
      MetricDelta(r, run, "gateway", "holomush_gateway_bytes_sent_total{protocol=\"telnet\"}");
  if (!std::isnan(in) && !std::isnan(sent)) {
    if (!out.empty()) out += "; ";
    out += "telnet in / out, everyone " + Num(in / 1048576, 1) + " / " + Num(sent / 1048576, 1) +
           " MiB";
  }
  add("commands refused (rate)",
      MetricDelta(r, run, "core", "holomush_commands_refused_total{reason=\"rate\"}"));
  add("commands refused (backlog)",
      MetricDelta(r, run, "core", "holomush_commands_refused_total{reason=\"backlog\"}"));
  return out.empty() ? "–" : out;
}

std::string AttackerView(const json* r) {
  if (r == nullptr || !r->contains("attack")) return "–";
  const json& a = (*r)["attack"];
  std::string out = Int(a.value("connects", 0.0)) + " connects, " + Int(a.value("admitted", 0.0)) +
                    " greeted, " + Int(a.value("closed_by_server", 0.0)) +
                    " closed by the server after the greeting, at most " +
                    Int(a.value("peak_open", 0.0)) + " open at once";
  if (a.value("attempts", 0.0) > 0) out += "; " + Int(a.value("attempts", 0.0)) + " attempts sent";
  if (a.value("says_sent", 0.0) > 0) {
    out += "; " + Int(a.value("says_sent", 0.0)) + " says written (" +
           Num(a.value("bytes_sent", 0.0) / 1048576, 1) + " MiB)";
  }
  if (a.value("commands_sent", 0.0) > 0) {
    out += "; " + Int(a.value("commands_sent", 0.0)) + " `" + a.value("command", std::string()) +
           "` sent";
  }
  std::string replies;
  const json replies_seen = a.value("replies", json::object());
  for (const auto& [name, count] : replies_seen.items()) {
    if (!replies.empty()) replies += ", ";
    replies += name + " " + Int(count.get<double>());
  }
  if (!replies.empty()) out += ". Lines back: " + replies;
  if (a.value("max_backoff_s", 0.0) > 0) {
    out += " (longest backoff " + Int(a.value("max_backoff_s", 0.0)) + " s)";
  }
  return out;
}

void AbuseSection(std::ostream& o, const Results& r) {
  const json* quiet = r.Get("abuse-quiet");
  const json* first = quiet;
  for (const auto& run : kAttacks) {
    if (first == nullptr) first = r.Get("abuse-" + run);
  }
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  o << kAbuseBegin << "\n\n## Abuse resistance (bench/run abuse, " << date << ")\n\n";
  if (first != nullptr) {
    const auto& meta = (*first)["meta"];
    const auto& c = (*first)["config"];
    auto m = [&](const char* key) { return meta.value(key, std::string("?")); };
    o << "Machine: " << m("cpus") << " × " << m("cpu_model") << ", Linux " << m("kernel")
      << ", load average at start " << m("loadavg_at_start") << ". HoloMUSH "
      << m("holomush_version") << " (" << m("git_commit") << ", " << m("build")
      << "), core and gateway with their default limits (" << m("limits") << ").\n\n"
      << Int(c.value("sessions", 0.0)) << " honest players log in from 127.0.0.1 with `connect` "
      << "to existing accounts, walk to " << Int(c.value("rooms", 0.0))
      << " Zipf-skewed rooms and act " << Num(c.value("rate_per_session", 0.0), 1)
      << " times a second each (" << c.value("mix", std::string()) << "; within core's "
      << "command rate). Loopback is exempt from the gateway's per-address limits, so they "
      << "stand in for " << Int(c.value("sessions", 0.0)) << " players at distinct "
      << "addresses. The attacker connects to the machine's own address (" << m("attack_host")
      << "), so the gateway sees one remote address and applies its limits to it. Each attack "
      << "starts " << Num(D(first, {"config", "attack_lead_s"}, 5), 0)
      << " s before the players log in and goes on until the measured window ("
      << Num(c.value("warmup_s", 0.0), 0) << " s warm-up, " << Num(c.value("duration_s", 0.0), 0)
      << " s measured) closes; a connection the server closes comes back a second later. "
      << "Login time is from the honest player's connect to its arrival in its room; say is "
      << "from the due time to each recipient; peak memory is the highest sampled RSS over "
      << "the whole run, attack included.\n\n";
  }
  const double q_login = D(quiet, {"login", "latency", "p99_ms"});
  const double q_say = D(quiet, {"latency", "say", "p99_ms"});
  o << "### Honest players while one address attacks\n\n"
    << "Goal: honest p99 within 2× of the quiet run, nothing lost, memory bounded.\n\n"
    << "| Attacker | honest logins | login p99 ms | vs quiet | say p99 ms | vs quiet | say, pose, "
       "page not received | peak RSS MiB core + gateway | PostgreSQL | goal |\n"
    << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& run : kAttacks) {
    const json* x = r.Get("abuse-" + run);
    if (x == nullptr) continue;
    const double login = D(x, {"login", "latency", "p99_ms"});
    const double say = D(x, {"latency", "say", "p99_ms"});
    const double lost = AllLost(x);
    const double logins = D(x, {"login", "active_at_end"}, 0);
    const double requested = D(x, {"login", "requested"}, 0);
    std::string verdict = "baseline";
    if (run != "quiet") {
      const bool met = logins == requested && lost == 0 && !std::isnan(q_login) &&
                       !std::isnan(q_say) && login <= 2 * q_login && say <= 2 * q_say;
      verdict = Verdict(met);
    }
    const double core = PeakMiB(x, "core");
    const double gateway = PeakMiB(x, "gateway");
    o << "| " << run << ": " << AttackDescription(x, run) << " | " << Int(logins) << " of "
      << Int(requested) << " | " << Num(login, login < 10 ? 2 : 1) << " | "
      << (run == "quiet" ? "1×" : Times(login, q_login)) << " | " << Ms(x, "say", "p99_ms") << " | "
      << (run == "quiet" ? "1×" : Times(say, q_say)) << " | " << Int(lost) << " of "
      << Int(D(x, {"deliveries", "expected"}, 0)) << " | " << Num(core + gateway, 0) << " ("
      << Num(core, 0) << " + " << Num(gateway, 0) << ") | " << Num(PeakMiB(x, "postgres"), 0)
      << " | " << verdict << " |\n";
  }
  o << "\n### What the server did to the attacker\n\n"
    << "As the attacker saw it (its connections, and the lines it read back, by kind; "
       "non-readers read theirs only when the attack ends or the server hangs up), and as the "
       "server counted it (gateway and core metrics, before and after the run).\n\n"
    << "| Attack | attacker's view | server's counters |\n|---|---|---|\n";
  for (const auto& run : kAttacks) {
    const json* x = r.Get("abuse-" + run);
    if (x == nullptr || run == "quiet") continue;
    o << "| " << run << " | " << AttackerView(x) << " | " << ServerView(r, run) << " |\n";
  }
  o << "\n### Where the time went\n\n"
    << "Server CPU is seconds over the measured window; the load generator (players and "
       "attacker, one thread) shares the 2 cores, so its CPU and its schedule lag (how late it "
       "sent the players' actions) are part of the picture; other CPU is the rest of the "
       "machine.\n\n"
    << "| Attacker | say p50 ms | login p50 ms | server CPU s | load generator CPU | schedule "
       "lag p99 ms | other CPU s |\n|---|---|---|---|---|---|---|\n";
  for (const auto& run : kAttacks) {
    const json* x = r.Get("abuse-" + run);
    if (x == nullptr) continue;
    const double login50 = D(x, {"login", "latency", "p50_ms"});
    o << "| " << run << " | " << Ms(x, "say", "p50_ms") << " | "
      << Num(login50, login50 < 10 ? 2 : 1) << " | " << CpuBreakdown(x) << " | "
      << Num(D(x, {"loadgen", "cpu_util"}) * 100, 0) << " % | "
      << Num(D(x, {"loadgen", "schedule_lag", "p99_ms"}), 2) << " | "
      << Num(D(x, {"machine", "other_cpu_seconds"}), 1) << " |\n";
  }
  o << "\n" << kAbuseEnd << "\n";
}

std::string AbuseGenerated(const Results& r) {
  std::ostringstream o;
  AbuseSection(o, r);
  return o.str();
}

// Replaces the block from `begin` to `end` (markers and the line end after `end` included)
// with `block`; nullopt when the markers are not both there, in order.
std::optional<std::string> ReplaceBlock(const std::string& text, const std::string& begin,
                                        const std::string& end, const std::string& block) {
  const size_t b = text.find(begin);
  const size_t e = text.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return std::nullopt;
  size_t after = e + end.size();
  if (after < text.size() && text[after] == '\n') ++after;
  return text.substr(0, b) + block + text.substr(after);
}

std::string Place(const std::string& text, const std::string& begin, const std::string& end,
                  const std::string& block) {
  if (block.empty()) return text;
  if (auto replaced = ReplaceBlock(text, begin, end, block)) return *replaced;
  if (text.empty()) return "# Benchmark results\n\n" + block;
  return text + (text.back() == '\n' ? "\n" : "\n\n") + block;
}

}  // namespace

std::string MergeReport(const std::string& existing, const std::string& main_block,
                        const std::string& abuse_block) {
  return Place(Place(existing, kBegin, kEnd, main_block), kAbuseBegin, kAbuseEnd, abuse_block);
}

void WriteReport(const ReportConfig& config) {
  const Results results(config.results_dir);
  // Only the blocks this folder has figures for: an abuse-only run leaves the others alone.
  const std::string generated = results.Any() != nullptr ? Generated(results) : "";
  const std::string abuse = results.HasAbuse() ? AbuseGenerated(results) : "";
  if (generated.empty() && abuse.empty()) {
    throw std::runtime_error("no scenario figures in " + config.results_dir);
  }
  std::string existing;
  {
    std::ifstream in(config.out_path);
    std::stringstream buf;
    buf << in.rdbuf();
    existing = buf.str();
  }
  const std::string out = MergeReport(existing, generated, abuse);
  const std::string tmp = config.out_path + ".tmp";
  {
    std::ofstream o(tmp);
    o << out;
    if (!o) throw std::runtime_error("cannot write " + tmp);
  }
  fs::rename(tmp, config.out_path);
}

}  // namespace holomush::loadgen
