// CPU time and memory of server processes, read from /proc: a watched group is a process
// and all its descendants (PostgreSQL's postmaster and its backends, TinyMUX and its DNS
// helpers). The parsers are pure; ProcSampler samples on its own thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace holomush::loadgen {

struct ProcStat {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::string comm;
  // Clock ticks; c* are children already waited for (their CPU lands here once reaped).
  uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
};

struct ProcMemory {
  uint64_t rss_kb = 0;   // VmRSS
  uint64_t hwm_kb = 0;   // VmHWM: the process's own peak RSS
  uint64_t anon_kb = 0;  // RssAnon
};

// The Pss line of /proc/<pid>/smaps_rollup: resident memory with shared pages divided
// among the processes sharing them, so that a sum over PostgreSQL's processes counts
// shared_buffers once.
uint64_t ParsePssKb(std::string_view smaps_rollup);

// /proc/<pid>/stat text; the command name may hold spaces and parentheses.
std::optional<ProcStat> ParseProcStat(std::string_view text);
// /proc/<pid>/status text.
ProcMemory ParseProcStatus(std::string_view text);

// One watched group at one instant.
struct GroupSample {
  size_t processes = 0;
  double cpu_seconds = 0;  // since each process started, reaped children included
  uint64_t rss_kb = 0;     // sum of VmRSS
  uint64_t hwm_kb = 0;     // sum of VmHWM
  uint64_t anon_kb = 0;    // sum of RssAnon
  uint64_t pss_kb = 0;     // sum of Pss, when asked for (reading it costs more)
};

// CPU seconds the whole machine spent busy (all states but idle and iowait), from the
// "cpu" line of /proc/stat; with the watched groups and the load generator subtracted,
// what is left is everybody else on the machine: the noise in a measurement.
double ParseBusySeconds(std::string_view proc_stat, double ticks_per_second);
double MachineBusySeconds();

// Descendants of each root, found through the ppid of every process in /proc.
std::map<std::string, GroupSample> SampleGroups(const std::map<std::string, pid_t>& roots,
                                                bool with_pss = false);

// Samples the groups every `period` on its own thread and keeps the peak summed RSS of each
// since the last ResetPeaks(). All methods are thread-safe.
class ProcSampler {
 public:
  ProcSampler(std::map<std::string, pid_t> roots, std::chrono::milliseconds period);
  ~ProcSampler();
  ProcSampler(const ProcSampler&) = delete;
  ProcSampler& operator=(const ProcSampler&) = delete;

  const std::map<std::string, pid_t>& roots() const { return roots_; }
  // A fresh sample taken now by the caller's thread, Pss included.
  std::map<std::string, GroupSample> Now() const;
  void ResetPeaks();
  std::map<std::string, uint64_t> PeakRssKb() const;

 private:
  void Loop(std::chrono::milliseconds period);

  const std::map<std::string, pid_t> roots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::map<std::string, uint64_t> peak_rss_kb_;
  std::thread thread_;
};

}  // namespace holomush::loadgen
