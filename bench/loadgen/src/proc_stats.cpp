#include "holomush/loadgen/proc_stats.hpp"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace holomush::loadgen {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

uint64_t FieldKb(std::string_view text, std::string_view key) {
  const size_t at = text.find(key);
  if (at == std::string_view::npos) return 0;
  std::string_view rest = text.substr(at + key.size());
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  uint64_t value = 0;
  std::from_chars(rest.data(), rest.data() + rest.size(), value);
  return value;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t open = text.find('(');
  const size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat st;
  if (std::from_chars(text.data(), text.data() + open, st.pid).ec != std::errc()) {
    // from_chars stops at the space before '('; only a missing number is an error.
    return std::nullopt;
  }
  st.comm = std::string(text.substr(open + 1, close - open - 1));
  // After ") ": field 3 is the state; ppid is field 4, utime..cstime are fields 14..17.
  std::istringstream rest{std::string(text.substr(close + 1))};
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(f);
  if (fields.size() < 15) return std::nullopt;
  try {
    st.ppid = static_cast<pid_t>(std::stol(fields[1]));
    st.utime = std::stoull(fields[11]);
    st.stime = std::stoull(fields[12]);
    st.cutime = std::stoull(fields[13]);
    st.cstime = std::stoull(fields[14]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return st;
}

ProcMemory ParseProcStatus(std::string_view text) {
  return {.rss_kb = FieldKb(text, "VmRSS:"),
          .hwm_kb = FieldKb(text, "VmHWM:"),
          .anon_kb = FieldKb(text, "RssAnon:")};
}

double ParseBusySeconds(std::string_view proc_stat, double ticks_per_second) {
  if (proc_stat.rfind("cpu ", 0) != 0) return 0;
  std::istringstream in{std::string(proc_stat.substr(4, proc_stat.find('\n') - 4))};
  uint64_t busy = 0, value = 0;
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  for (int field = 0; field < 8 && in >> value; ++field) {
    if (field != 3 && field != 4) busy += value;
  }
  return static_cast<double>(busy) / ticks_per_second;
}

double MachineBusySeconds() {
  return ParseBusySeconds(ReadFile("/proc/stat"), static_cast<double>(sysconf(_SC_CLK_TCK)));
}

uint64_t ParsePssKb(std::string_view smaps_rollup) { return FieldKb(smaps_rollup, "\nPss:"); }

std::map<std::string, GroupSample> SampleGroups(const std::map<std::string, pid_t>& roots,
                                                bool with_pss) {
  std::map<pid_t, ProcStat> all;
  if (DIR* dir = opendir("/proc")) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      const std::string text = ReadFile(std::string("/proc/") + e->d_name + "/stat");
      if (auto st = ParseProcStat(text)) all[st->pid] = *st;
    }
    closedir(dir);
  }
  std::map<pid_t, std::vector<pid_t>> children;
  for (const auto& [pid, st] : all) children[st.ppid].push_back(pid);

  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::map<std::string, GroupSample> out;
  for (const auto& [name, root] : roots) {
    GroupSample g;
    std::vector<pid_t> todo{root};
    while (!todo.empty()) {
      const pid_t pid = todo.back();
      todo.pop_back();
      auto it = all.find(pid);
      if (it == all.end()) continue;
      const ProcStat& st = it->second;
      ++g.processes;
      g.cpu_seconds += static_cast<double>(st.utime + st.stime + st.cutime + st.cstime) / kTicks;
      const ProcMemory m = ParseProcStatus(ReadFile("/proc/" + std::to_string(pid) + "/status"));
      g.rss_kb += m.rss_kb;
      g.hwm_kb += m.hwm_kb;
      g.anon_kb += m.anon_kb;
      if (with_pss) {
        g.pss_kb += ParsePssKb(ReadFile("/proc/" + std::to_string(pid) + "/smaps_rollup"));
      }
      for (pid_t c : children[pid]) todo.push_back(c);
    }
    out[name] = g;
  }
  return out;
}

ProcSampler::ProcSampler(std::map<std::string, pid_t> roots, std::chrono::milliseconds period)
    : roots_(std::move(roots)) {
  if (!roots_.empty()) thread_ = std::thread([this, period] { Loop(period); });
}

ProcSampler::~ProcSampler() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::map<std::string, GroupSample> ProcSampler::Now() const { return SampleGroups(roots_, true); }

void ProcSampler::ResetPeaks() {
  const auto now = SampleGroups(roots_);
  std::lock_guard lock(mu_);
  peak_rss_kb_.clear();
  for (const auto& [name, g] : now) peak_rss_kb_[name] = g.rss_kb;
}

std::map<std::string, uint64_t> ProcSampler::PeakRssKb() const {
  std::lock_guard lock(mu_);
  return peak_rss_kb_;
}

void ProcSampler::Loop(std::chrono::milliseconds period) {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    const auto now = SampleGroups(roots_);
    lock.lock();
    for (const auto& [name, g] : now) {
      auto& peak = peak_rss_kb_[name];
      if (g.rss_kb > peak) peak = g.rss_kb;
    }
    cv_.wait_for(lock, period, [this] { return stop_; });
  }
}

}  // namespace holomush::loadgen
