// SIGTERM/SIGINT handling: signals are turned into a wake-up the main thread waits on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace holomush::common {

// Construct in main() before any other thread starts: it blocks SIGTERM and SIGINT for the
// process and receives them on its own thread with sigwait.
class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until a signal arrives or Request() is called; returns the signal (0 for Request).
  int Wait();
  // Like Wait, but gives up after `timeout`; returns -1 on timeout.
  int WaitFor(std::chrono::milliseconds timeout);
  // Asks for shutdown from inside the process (the `shutdown` command, tests).
  void Request(int signal = 0);
  bool Requested() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;
  int signal_ = 0;
  std::thread waiter_;
};

}  // namespace holomush::common
