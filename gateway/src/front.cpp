#include "front.hpp"

#include "holomush/common/thread_name.hpp"
#include "listener.hpp"
#include "telnet_connection.hpp"
#include "websocket_connection.hpp"

namespace holomush::gateway {

ClientFront::ClientFront(ConnectionEnv env, ConnectionCaps caps, int threads)
    : env_(std::move(env)), thread_count_(threads < 1 ? 1 : threads), registry_(caps) {
  env_.registry = &registry_;
}

ClientFront::~ClientFront() {
  if (!stopped_) Stop(std::chrono::milliseconds(0), std::string(kShutdownText));
}

void ClientFront::Start(const common::HostPort& telnet,
                        const std::optional<common::HostPort>& web) {
  telnet_ = std::make_unique<Listener>(io_, "telnet", [this](boost::asio::ip::tcp::socket socket) {
    AcceptTelnet(std::move(socket), env_);
  });
  telnet_->Start(telnet);
  if (web) {
    web_ = std::make_unique<Listener>(
        io_, "websocket",
        [this](boost::asio::ip::tcp::socket socket) { AcceptWebSocket(std::move(socket), env_); });
    web_->Start(*web);
  }
  work_.emplace(io_.get_executor());
  for (int i = 0; i < thread_count_; ++i) {
    threads_.emplace_back([this] {
      common::NameThisThread("holomush-io");
      io_.run();
    });
  }
}

void ClientFront::Stop(std::chrono::milliseconds grace, const std::string& farewell) {
  if (stopped_) return;
  stopped_ = true;
  // Refuse newcomers before telling the players: nobody connects after the farewell.
  const bool io_running = !threads_.empty();
  if (telnet_) telnet_->Stop(io_running);
  if (web_) web_->Stop(io_running);
  registry_.ShutdownAll(farewell);
  if (!threads_.empty()) registry_.WaitEmpty(grace);
  work_.reset();
  io_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

uint16_t ClientFront::telnet_port() const { return telnet_ ? telnet_->port() : 0; }
uint16_t ClientFront::web_port() const { return web_ ? web_->port() : 0; }

}  // namespace holomush::gateway
