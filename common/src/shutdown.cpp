#include "holomush/common/shutdown.hpp"

#include <pthread.h>
#include <signal.h>

namespace holomush::common {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

ShutdownSignal::ShutdownSignal() {
  sigset_t set = ShutdownSet();
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a socket mid-write must not kill the process.
  signal(SIGPIPE, SIG_IGN);
  waiter_ = std::thread([this] {
    sigset_t wait_set = ShutdownSet();
    sigaddset(&wait_set, SIGUSR2);  // used only to end this thread
    int sig = 0;
    while (sigwait(&wait_set, &sig) == 0) {
      if (sig == SIGUSR2) return;
      Request(sig);
    }
  });
}

ShutdownSignal::~ShutdownSignal() {
  pthread_kill(waiter_.native_handle(), SIGUSR2);
  waiter_.join();
}

int ShutdownSignal::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return requested_; });
  return signal_;
}

int ShutdownSignal::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [this] { return requested_; })) return -1;
  return signal_;
}

void ShutdownSignal::Request(int signal) {
  {
    std::lock_guard lock(mu_);
    if (requested_) return;
    requested_ = true;
    signal_ = signal;
  }
  cv_.notify_all();
}

bool ShutdownSignal::Requested() const {
  std::lock_guard lock(mu_);
  return requested_;
}

}  // namespace holomush::common
