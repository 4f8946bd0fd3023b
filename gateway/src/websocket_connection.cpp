#include "websocket_connection.hpp"

#include <array>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>

#include "holomush/common/version.hpp"
#include "web_static.hpp"
#include "ws_message.hpp"

namespace holomush::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string PlainHttp(int status, std::string_view reason, std::string_view body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size() + 1) + "\r\nConnection: close\r\n\r\n" + std::string(body) +
         "\n";
}

// Beast (Boost 1.74) speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

// A browser loads the page and three files; one connection may carry that many and more.
constexpr int kMaxRequestsPerConnection = 100;

std::string ResponseHead(const HttpAnswer& answer, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(answer.status) + " " + answer.reason + "\r\n";
  for (const auto& [name, value] : answer.headers) head += name + ": " + value + "\r\n";
  head += "Server: holomush-gateway/" + std::string(common::kVersion) + "\r\n";
  head += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return head;
}

// One WebSocket client. Runs on the connection's strand (the socket's executor). Beast
// allows one write in flight: frames wait in `frames_`, bounded in bytes like telnet output.
class WebSocketConnection final : public ConnectionBase {
 public:
  WebSocketConnection(tcp::socket socket, const ConnectionEnv& env)
      : ConnectionBase(socket.get_executor(), env, Protocol::kWebSocket), ws_(std::move(socket)) {}

  void Start() {
    auto& tcp_stream = beast::get_lowest_layer(ws_);
    boost::system::error_code ec;
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    auto endpoint = tcp_stream.socket().remote_endpoint(ec);
    if (!ec) set_remote(endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    ReadRequest();
  }

  // ClientPort.
  void OnSessionOpened(std::string_view session_id, std::string_view resume_token,
                       std::string_view character) override {
    Send(SessionMessage(session_id, resume_token, character));
  }
  void ResumeRefused(std::string_view text) override { Send(ResumeRefusedMessage(text)); }
  void SendText(std::string_view text) override { Send(OutputMessage(text)); }
  void SendEvent(const v1::Event& event) override {
    Send(EventMessage({.id = event.id(),
                       .type = event.type(),
                       .stream = event.stream(),
                       .actor = event.actor_name(),
                       .text = event.text(),
                       .unix_millis = event.unix_millis(),
                       .replayed = event.replayed()}));
  }
  void SendPrompt(std::string_view text) override { Send(PromptMessage(text)); }
  void SetEcho(bool echo) override { Send(EchoMessage(echo)); }

 private:
  std::shared_ptr<WebSocketConnection> Self() {
    return std::static_pointer_cast<WebSocketConnection>(shared_from_this());
  }

  // One HTTP request: the first of a connection, or the next on a kept-alive one.
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    // No request here has a body; a small one (a form POST) is allowed through the limit
    // only so that its header can be answered (405) instead of cut off.
    parser_->body_limit(1024);
    auto& tcp_stream = beast::get_lowest_layer(ws_);
    tcp_stream.expires_after(env().limits.http_request_timeout);
    http::async_read(tcp_stream, buffer_, *parser_,
                     [self = Self()](const boost::system::error_code& read_ec, size_t) {
                       self->OnRequest(read_ec);
                     });
  }

  void OnRequest(const boost::system::error_code& ec) {
    const bool has_body = ec == http::error::body_limit || ec == http::error::unexpected_body;
    if (has_body && !closing() && parser_->is_header_done()) {
      // A request with a body (a POST, say): answered from its header (405), then closed,
      // since the body is not read.
      ServeFile(parser_->get(), /*close=*/true);
      return;
    }
    if (ec || closing()) {
      Abort(CloseReason::kClientGone);
      return;
    }
    ++requests_;
    const auto& request = parser_->get();
    const std::string_view target = Sv(request.target());
    const bool ws_path = target == "/ws" || target.starts_with("/ws?");
    if (!ws_path) {
      ServeFile(request);
      return;
    }
    if (!websocket::is_upgrade(request)) {
      Refuse(426, "Upgrade Required", "HoloMUSH: connect with a WebSocket.");
      return;
    }
    const std::string_view origin = Sv(request[http::field::origin]);
    const std::string_view host = Sv(request[http::field::host]);
    if (!OriginAllowed(origin, host, env().allowed_origins)) {
      if (env().metrics != nullptr) env().metrics->origins_refused().Increment();
      env().log.Warn("websocket origin refused", {{"origin", std::string(origin.substr(0, 200))},
                                                  {"host", std::string(host.substr(0, 200))}});
      Refuse(403, "Forbidden", "HoloMUSH: this page's origin may not connect to the game.");
      return;
    }
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = env().limits.http_request_timeout;
    // Silent for half of this, the client is pinged; silent for all of it, closed.
    timeouts.idle_timeout = env().limits.websocket_keepalive;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, std::string("holomush-gateway/") + common::kVersion);
    }));
    // A line at the limit, JSON-escaped at worst (\u00XX per byte), still fits and is answered
    // "too long" like telnet; frames beyond that fail the read (and close) unbuffered.
    ws_.read_message_max(env().limits.max_line_bytes * 6 + 1024);
    ws_.text(true);
    ws_.async_accept(request, [self = Self()](const boost::system::error_code& accept_ec) {
      self->OnAccepted(accept_ec);
    });
  }

  void CountHttp(int status) {
    if (env().metrics != nullptr) env().metrics->http_responses(status).Increment();
  }

  // Not a game client: answer in plain HTTP and hang up.
  void Refuse(int status, std::string_view reason, std::string_view body) {
    CountHttp(status);
    plain_response_ = PlainHttp(status, reason, body);
    asio::async_write(beast::get_lowest_layer(ws_).socket(), asio::buffer(plain_response_),
                      [self = Self()](const boost::system::error_code&, size_t) {
                        self->Abort(CloseReason::kClientGone);
                      });
  }

  // The browser client's files (embedded), on a connection kept alive for the next request.
  void ServeFile(const http::request<http::empty_body>& request, bool close = false) {
    const HttpAnswer answer =
        ServeStatic(Sv(request.method_string()), Sv(request.target()),
                    Sv(request[http::field::if_none_match]), env().web_assets);
    CountHttp(answer.status);
    const bool keep_alive = !close && request.keep_alive() &&
                            requests_ < kMaxRequestsPerConnection && answer.status != 405;
    plain_response_ = ResponseHead(answer, keep_alive);
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(plain_response_),
        answer.head ? asio::const_buffer() : asio::buffer(answer.body.data(), answer.body.size())};
    asio::async_write(beast::get_lowest_layer(ws_).socket(), buffers,
                      [self = Self(), keep_alive](const boost::system::error_code& ec, size_t n) {
                        if (!self->WriteCompleted(ec, n)) return;
                        if (keep_alive && !self->closing()) {
                          self->ReadRequest();
                        } else {
                          self->Abort(CloseReason::kClientGone);
                        }
                      });
  }

  void OnAccepted(const boost::system::error_code& ec) {
    if (ec) {
      Abort(CloseReason::kClientGone);
      return;
    }
    accepted_ = true;
    buffer_.consume(buffer_.size());
    StartSession();
    StartRead();
  }

  void StartRead() override {
    ws_.async_read(buffer_, [self = Self()](const boost::system::error_code& ec, size_t n) {
      self->OnRead(ec, n);
    });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (!ReadCompleted(ec, n)) return;
    if (!closing()) {
      const std::string frame = beast::buffers_to_string(buffer_.data());
      ClientCommand command = ParseClientMessage(frame, env().limits.max_line_bytes);
      if (command.ok && command.kind == ClientCommand::Kind::kResume) {
        OnResume(std::move(command.session_id), std::move(command.resume_token),
                 std::move(command.last_event_id));
      } else if (command.ok) {
        OnInputLine(std::move(command.line));
      } else {
        Send(ErrorMessage(command.error));
      }
    }
    buffer_.consume(buffer_.size());
    ReadNext();
  }

  void Send(std::string frame) {
    if (finished() || !accepted_) return;
    if (queued_bytes_ + frame.size() > env().limits.output_limit_bytes) {
      Abort(CloseReason::kSlowReader);
      return;
    }
    queued_bytes_ += frame.size();
    frames_.push_back(std::move(frame));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (frames_.empty() || finished()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.async_write(
        asio::buffer(frames_.front()),
        [self = Self()](const boost::system::error_code& ec, size_t n) { self->OnWritten(ec, n); });
  }

  void OnWritten(const boost::system::error_code& ec, size_t n) {
    queued_bytes_ -= frames_.front().size();
    frames_.pop_front();
    writing_ = false;
    if (!WriteCompleted(ec, n)) return;
    WriteNext();
    if (!frames_.empty()) return;
    if (closing() && !close_started_) {
      // The `closed` message is out: finish with the WebSocket close handshake.
      close_started_ = true;
      ws_.async_close(
          websocket::close_code::normal,
          [self = Self()](const boost::system::error_code&) { self->OnOutputDrained(); });
      return;
    }
    if (!close_started_) OnOutputDrained();
  }

  // After a gateway restart the session is still in core: the browser takes it back.
  void QueueFarewell(std::string_view text) override {
    Send(ClosedMessage(text, close_reason() == CloseReason::kShutdown));
  }
  bool OutputDrained() const override { return frames_.empty(); }
  void CloseTransport() override {
    boost::system::error_code ec;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  int requests_ = 0;
  std::string plain_response_;
  std::deque<std::string> frames_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool accepted_ = false;
  bool close_started_ = false;
};

}  // namespace

void AcceptWebSocket(tcp::socket socket, const ConnectionEnv& env) {
  auto address = AdmitConnection(env, Protocol::kWebSocket, socket,
                                 [](ConnectionRegistry::Admit why, std::string_view text) {
                                   return why == ConnectionRegistry::Admit::kAddressFull
                                              ? PlainHttp(429, "Too Many Requests", text)
                                              : PlainHttp(503, "Service Unavailable", text);
                                 });
  if (!address) return;
  auto connection = std::make_shared<WebSocketConnection>(std::move(socket), env);
  asio::post(connection->executor(), [connection] { connection->Start(); });
  env.registry->Add(connection.get(), connection, *address);
}

}  // namespace holomush::gateway
