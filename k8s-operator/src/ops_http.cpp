#include "ops_http.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

namespace holomush::op {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(10);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const OpsHttpServer::ReadyCheck& ready,
          std::shared_ptr<prometheus::Registry> registry)
      : stream_(std::move(socket)), ready_(ready), registry_(std::move(registry)) {}

  void Read() {
    request_ = {};
    stream_.expires_after(kTimeout);
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return;
                       self->Respond();
                     });
  }

 private:
  void Respond() {
    const std::string target(request_.target());
    const std::string path = target.substr(0, target.find('?'));
    auto res =
        std::make_shared<http::response<http::string_body>>(http::status::ok, request_.version());
    res->set(http::field::content_type, "text/plain; charset=utf-8");
    if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->body() = "method not allowed\n";
    } else if (path == "/healthz") {
      res->body() = "ok\n";
    } else if (path == "/readyz") {
      auto [ok, detail] = ready_();
      res->result(ok ? http::status::ok : http::status::service_unavailable);
      res->body() = (ok ? "ready: " : "not ready: ") + detail + "\n";
    } else if (path == "/metrics") {
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->body() = prometheus::TextSerializer().Serialize(registry_->Collect());
    } else {
      res->result(http::status::not_found);
      res->body() = "not found\n";
    }
    res->keep_alive(request_.keep_alive());
    res->prepare_payload();
    if (request_.method() == http::verb::head) res->body().clear();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                          return;
                        }
                        self->Read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  const OpsHttpServer::ReadyCheck& ready_;
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace

class OpsHttpServer::Impl {
 public:
  Impl(common::HostPort address, ReadyCheck ready, std::shared_ptr<prometheus::Registry> registry)
      : address_(std::move(address)), ready_(std::move(ready)), registry_(std::move(registry)) {}

  void Start() {
    boost::system::error_code ec;
    const std::string host = address_.host.empty() || address_.host == "localhost"
                                 ? (address_.host.empty() ? "0.0.0.0" : "127.0.0.1")
                                 : address_.host;
    auto ip = asio::ip::make_address(host, ec);
    if (ec) throw std::runtime_error("ops server: bad address " + address_.ToString());
    tcp::endpoint endpoint(ip, address_.port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint, ec);
    if (ec) {
      throw std::runtime_error("ops server: cannot listen on " + address_.ToString() + ": " +
                               ec.message());
    }
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket), ready_, registry_)->Read();
      Accept();
    });
  }

  common::HostPort address_;
  ReadyCheck ready_;
  std::shared_ptr<prometheus::Registry> registry_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  uint16_t port_ = 0;
};

OpsHttpServer::OpsHttpServer(common::HostPort address, ReadyCheck ready,
                             std::shared_ptr<prometheus::Registry> registry)
    : impl_(std::make_unique<Impl>(std::move(address), std::move(ready), std::move(registry))) {}
OpsHttpServer::~OpsHttpServer() { Stop(); }
void OpsHttpServer::Start() { impl_->Start(); }
void OpsHttpServer::Stop() {
  if (impl_) impl_->Stop();
}
uint16_t OpsHttpServer::port() const { return impl_->port(); }

}  // namespace holomush::op
