// An HTTP endpoint on loopback that records what Alertmanager's webhook_configs POST to it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace holomush::testing {

// Listens on 127.0.0.1 (a port of the kernel's choosing) from construction to destruction.
// One thread of its own accepts connections and reads one request from each; tests read the
// request bodies from any thread.
class WebhookReceiver {
 public:
  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path) const;

  // Waits until a body received so far satisfies `match`; returns it, or nullopt at the
  // deadline.
  std::optional<std::string> WaitFor(const std::function<bool(const std::string&)>& match,
                                     std::chrono::milliseconds timeout);
  // "METHOD path" of every request so far, oldest first.
  std::vector<std::string> Requests();

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // written by the destructor to end Serve()
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> requests_;  // guarded by mu_
  std::vector<std::string> bodies_;    // guarded by mu_
};

}  // namespace holomush::testing
