#include "holomush/common/ops_server.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace holomush::common {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kReadTimeout = std::chrono::seconds(10);
constexpr size_t kMaxRequestBytes = 8 * 1024;

struct Response {
  http::status status;
  std::string content_type;
  std::string body;
  bool allow_header = false;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Health& health, std::shared_ptr<prometheus::Registry> registry,
             const OpsPaths& paths)
      : stream_(std::move(socket)),
        health_(health),
        registry_(std::move(registry)),
        paths_(paths) {}

  void Start() { Read(); }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kMaxRequestBytes);
    parser_->body_limit(kMaxRequestBytes);
    stream_.expires_after(kReadTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    const auto& req = parser_->get();
    Response r = Handle(req.method(), std::string(req.target()));
    auto res = std::make_shared<http::response<http::string_body>>(r.status, req.version());
    res->set(http::field::server, "holomush");
    res->set(http::field::content_type, r.content_type);
    if (r.allow_header) res->set(http::field::allow, "GET, HEAD");
    res->keep_alive(req.keep_alive());
    if (req.method() == http::verb::head) {
      res->content_length(r.body.size());
    } else {
      res->body() = std::move(r.body);
      res->prepare_payload();
    }
    stream_.expires_after(kReadTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code wec, size_t) {
                        if (wec || !res->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
                          return;
                        }
                        self->Read();
                      });
  }

  // 200 with `good` and a line per note, or 503 with `bad` and a line per failing check.
  static Response Probe(const Health::Report& report, const std::string& good,
                        const std::string& bad) {
    std::string body = (report.ready ? good : bad) + "\n";
    for (const auto& line : report.ready ? report.notes : report.failing) body += line + "\n";
    return {report.ready ? http::status::ok : http::status::service_unavailable,
            "text/plain; charset=utf-8", body};
  }

  Response Handle(http::verb method, const std::string& target) {
    std::string path = target.substr(0, target.find('?'));
    const bool known = path == paths_.liveness || path == paths_.readiness || path == "/metrics";
    if (!known) return {http::status::not_found, "text/plain; charset=utf-8", "not found\n"};
    if (method != http::verb::get && method != http::verb::head) {
      return {http::status::method_not_allowed, "text/plain; charset=utf-8", "method not allowed\n",
              true};
    }
    // Liveness: the process's own loops only (their heartbeats), never the database.
    if (path == paths_.liveness) return Probe(health_.Liveness(), "ok", "not alive");
    if (path == paths_.readiness) return Probe(health_.Readiness(), "ready", "not ready");
    prometheus::TextSerializer serializer;
    return {http::status::ok, "text/plain; version=0.0.4; charset=utf-8",
            serializer.Serialize(registry_->Collect())};
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kMaxRequestBytes};
  std::optional<http::request_parser<http::string_body>> parser_;
  Health& health_;
  std::shared_ptr<prometheus::Registry> registry_;
  const OpsPaths& paths_;  // the server's, which outlives its connections
};

}  // namespace

class OpsServer::Impl {
 public:
  Impl(HostPort address, Health& health, std::shared_ptr<prometheus::Registry> registry,
       OpsPaths paths)
      : address_(std::move(address)),
        health_(health),
        registry_(std::move(registry)),
        paths_(std::move(paths)) {}

  void Start() {
    boost::system::error_code ec;
    // ":9100" means every interface, as it does for the game's own listeners.
    std::string host = address_.host;
    if (host.empty()) host = "0.0.0.0";
    if (host == "localhost") host = "127.0.0.1";
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
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  void Stop() {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  uint16_t port() const { return port_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(socket), health_, registry_, paths_)->Start();
      Accept();
    });
  }

  HostPort address_;
  Health& health_;
  std::shared_ptr<prometheus::Registry> registry_;
  OpsPaths paths_;
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  uint16_t port_ = 0;
};

OpsServer::OpsServer(HostPort address, Health& health,
                     std::shared_ptr<prometheus::Registry> registry, OpsPaths paths)
    : impl_(std::make_unique<Impl>(std::move(address), health, std::move(registry),
                                   std::move(paths))) {}
OpsServer::~OpsServer() { Stop(); }
void OpsServer::Start() { impl_->Start(); }
void OpsServer::Stop() {
  if (impl_) impl_->Stop();
}
uint16_t OpsServer::port() const { return impl_->port(); }

}  // namespace holomush::common
