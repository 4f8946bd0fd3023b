// Named readiness checks shared by the ops HTTP server and the gRPC health service, and the
// heartbeats of the process's own loops that liveness follows.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace holomush::common {

// One loop's heartbeat. The loop beats at least once per allowance while it runs, waits
// included (a loop that sleeps on a condition wakes to beat). While it waits on something
// outside the process (the database), it holds an Outside scope: that time never counts
// against it, so liveness never depends on the database; readiness covers that.
class Heartbeat {
 public:
  using Clock = std::chrono::steady_clock;
  Heartbeat(std::string name, std::chrono::milliseconds allowance);

  void Beat(Clock::time_point now = Clock::now());
  // The loop has ended on purpose (shutdown): it no longer counts.
  void Retire() { retired_ = true; }

  class Outside {
   public:
    explicit Outside(Heartbeat* heartbeat);
    ~Outside();
    Outside(const Outside&) = delete;
    Outside& operator=(const Outside&) = delete;

   private:
    Heartbeat* heartbeat_;
  };

  const std::string& name() const { return name_; }
  bool retired() const { return retired_; }
  // How long past its allowance the loop is; zero or negative when it is on time.
  std::chrono::milliseconds Overdue(Clock::time_point now) const;

 private:
  std::string name_;
  std::chrono::milliseconds allowance_;
  std::atomic<Clock::rep> last_{0};
  std::atomic<int> outside_{0};
  std::atomic<bool> retired_{false};
};

// Owned by the process's main; Set() is called from any thread by the subsystem that owns a
// check (it must be cheap: probes read the last result, they never run a check themselves).
class Health {
 public:
  struct Report {
    bool ready = false;
    std::vector<std::string> failing;  // "name: detail"
    std::vector<std::string> notes;    // passing checks that carry a detail; loops on time
  };

  // Adds or updates a check. A check is failing until first set ok.
  void Set(const std::string& name, bool ok, const std::string& detail = "");
  // Readiness is false from now on, whatever the checks say.
  void SetShuttingDown();
  bool ShuttingDown() const;
  Report Readiness() const;
  // Called (outside the lock) whenever overall readiness flips, and once at registration.
  void OnChange(std::function<void(bool ready)> listener);

  // Registers a loop's heartbeat (beaten once now); the pointer lives as long as this Health.
  Heartbeat* AddHeartbeat(const std::string& name, std::chrono::milliseconds allowance);
  // Alive unless a loop is overdue; `failing` names each with how long it has been silent.
  Report Liveness(Heartbeat::Clock::time_point now = Heartbeat::Clock::now()) const;

 private:
  bool ReadyLocked() const;
  void Notify(bool ready);

  struct Check {
    bool ok = false;
    std::string detail;
  };
  mutable std::mutex mu_;
  std::map<std::string, Check> checks_;
  bool shutting_down_ = false;
  bool last_ready_ = false;
  std::vector<std::function<void(bool)>> listeners_;
  std::vector<std::unique_ptr<Heartbeat>> heartbeats_;
};

// Beats a heartbeat from inside a thread pool or io_context: every `interval` it posts a beat
// through `post`. A pool whose threads are all stuck never runs it, and liveness sees that.
class ExecutorHeartbeat {
 public:
  using Post = std::function<void(std::function<void()>)>;
  ExecutorHeartbeat(Heartbeat* heartbeat, Post post,
                    std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~ExecutorHeartbeat();  // stops posting; the heartbeat is retired
  ExecutorHeartbeat(const ExecutorHeartbeat&) = delete;
  ExecutorHeartbeat& operator=(const ExecutorHeartbeat&) = delete;

 private:
  Heartbeat* heartbeat_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace holomush::common
