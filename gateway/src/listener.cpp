#include "listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <stdexcept>

namespace holomush::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Shared with the pending accept, so a completion after Stop() finds it alive.
struct Listener::State {
  State(asio::io_context& io, OnAccept callback)
      : io(io),
        acceptor(asio::make_strand(io)),
        retry(acceptor.get_executor()),
        on_accept(std::move(callback)) {}
  asio::io_context& io;
  tcp::acceptor acceptor;
  asio::steady_timer retry;
  OnAccept on_accept;
};

tcp::endpoint ListenEndpoint(asio::io_context& io, const common::HostPort& address) {
  boost::system::error_code ec;
  const std::string host = address.host.empty() ? "0.0.0.0" : address.host;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, std::to_string(address.port), tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve listen address " + address.ToString() + ": " +
                             ec.message());
  }
  return results.begin()->endpoint();
}

Listener::Listener(asio::io_context& io, std::string what, OnAccept on_accept)
    : io_(io), what_(std::move(what)), state_(std::make_shared<State>(io, std::move(on_accept))) {}

Listener::~Listener() = default;

void Listener::Start(const common::HostPort& address) {
  const auto endpoint = ListenEndpoint(io_, address);
  auto& acceptor = state_->acceptor;
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen for " + what_ + " on " + address.ToString() + ": " +
                             ec.message());
  }
  port_ = acceptor.local_endpoint().port();
  Accept(state_);
}

void Listener::Stop(bool io_running) {
  auto close = [state = state_] {
    boost::system::error_code ec;
    state->acceptor.close(ec);
    state->retry.cancel();
  };
  if (!io_running) {
    close();
    return;
  }
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  asio::post(state_->acceptor.get_executor(), [close, closed] {
    close();
    closed->set_value();
  });
  // Bounded, so a wedged io_context cannot hang shutdown: then it is closed from here.
  if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) close();
}

void Listener::Accept(const std::shared_ptr<State>& state) {
  state->acceptor.async_accept(
      asio::make_strand(state->io),
      [state](const boost::system::error_code& ec, tcp::socket socket) {
        if (!state->acceptor.is_open()) return;
        if (!ec) {
          state->on_accept(std::move(socket));
          Accept(state);
          return;
        }
        // Out of descriptors or memory: retry shortly instead of spinning.
        state->retry.expires_after(std::chrono::milliseconds(100));
        state->retry.async_wait([state](const boost::system::error_code& wait_ec) {
          if (!wait_ec && state->acceptor.is_open()) Accept(state);
        });
      });
}

}  // namespace holomush::gateway
