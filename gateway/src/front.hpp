// The client-facing half of the gateway: the io_context and its threads, the telnet and
// WebSocket listeners, and every connection. Independent of how core is reached.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "holomush/common/config.hpp"

namespace holomush::gateway {

class Listener;

// Owned by the gateway (or a test). Start once, Stop once. `env` (its core, metrics and
// resume memory) must outlive this object.
class ClientFront {
 public:
  ClientFront(ConnectionEnv env, ConnectionCaps caps, int threads);
  ~ClientFront();
  ClientFront(const ClientFront&) = delete;
  ClientFront& operator=(const ClientFront&) = delete;

  // Listens (web is optional) and starts the threads; throws naming an address it cannot use.
  void Start(const common::HostPort& telnet, const std::optional<common::HostPort>& web);
  // Stops accepting, tells every player `farewell`, waits up to `grace` for them to close,
  // then stops the threads. Connections still open after `grace` are cut.
  void Stop(std::chrono::milliseconds grace, const std::string& farewell);

  uint16_t telnet_port() const;
  uint16_t web_port() const;
  size_t connections() const { return registry_.size(); }
  boost::asio::io_context& io() { return io_; }

 private:
  ConnectionEnv env_;
  int thread_count_;
  ConnectionRegistry registry_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<Listener> telnet_;
  std::unique_ptr<Listener> web_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace holomush::gateway
