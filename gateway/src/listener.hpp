// A TCP listener on the gateway's io_context: accepts onto a fresh strand per connection.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "holomush/common/config.hpp"

namespace holomush::gateway {

// Owned by the ClientFront; Stop() before the io_context stops. The callback runs on the
// acceptor's strand and takes ownership of the socket (whose executor is its own strand).
class Listener {
 public:
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket)>;

  Listener(boost::asio::io_context& io, std::string what, OnAccept on_accept);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; throws std::runtime_error naming `what` and the address on failure.
  void Start(const common::HostPort& address);
  // Closes the listening socket: once it returns, the kernel refuses new connections.
  // `io_running`: threads run the io_context, so the close is done on the acceptor's strand
  // and waited for (never call it from one of those threads); otherwise it is done here.
  void Stop(bool io_running);
  uint16_t port() const { return port_; }

 private:
  struct State;
  static void Accept(const std::shared_ptr<State>& state);

  boost::asio::io_context& io_;
  std::string what_;
  std::shared_ptr<State> state_;
  uint16_t port_ = 0;
};

// Resolves a listen address ("0.0.0.0:4201", "[::]:80", "localhost:0"); throws naming it.
boost::asio::ip::tcp::endpoint ListenEndpoint(boost::asio::io_context& io,
                                              const common::HostPort& address);

}  // namespace holomush::gateway
