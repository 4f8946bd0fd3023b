#include "telnet_connection.hpp"

#include <array>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "line_splitter.hpp"
#include "output_queue.hpp"
#include "telnet_protocol.hpp"
#include "text.hpp"

namespace holomush::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// One telnet client: the telnet protocol and line splitting in, one coalesced write out.
// Runs on the connection's strand (the socket's executor).
class TelnetConnection final : public ConnectionBase {
 public:
  TelnetConnection(tcp::socket socket, const ConnectionEnv& env)
      : ConnectionBase(socket.get_executor(), env, Protocol::kTelnet),
        socket_(std::move(socket)),
        splitter_(env.limits.max_line_bytes),
        out_(env.limits.output_limit_bytes) {}

  void Start() {
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    // A modest kernel buffer: a client that stops reading reaches our queue limit soon,
    // and a thousand stalled clients do not pin megabytes each in the kernel.
    socket_.set_option(asio::socket_base::send_buffer_size(64 * 1024), ec);
    socket_.non_blocking(true, ec);  // reads are read_some after async_wait (see Read)
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) set_remote(endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    Write(protocol_.Start());
    StartSession();
    StartRead();
  }

  // ClientPort.
  void SendText(std::string_view text) override { WriteText(text); }
  void SendEvent(const v1::Event& event) override {
    if (!event.text().empty()) WriteText(event.text());
  }
  void SendPrompt(std::string_view text) override { Write(TelnetProtocol::EscapeIac(text)); }
  void SetEcho(bool echo) override {
    const std::string bytes = protocol_.SetServerEcho(!echo);
    if (bytes.empty()) return;
    // With echo back on, end the line the hidden password was typed on.
    Write(echo ? bytes + "\r\n" : bytes);
  }

 private:
  // The client's width from NAWS (0 until it says, or when it reports none).
  size_t WrapWidth() const {
    const auto size = protocol_.window_size();
    return size ? size->width : 0;
  }

  std::shared_ptr<TelnetConnection> Self() {
    return std::static_pointer_cast<TelnetConnection>(shared_from_this());
  }

  void QueueFarewell(std::string_view text) override { Write(ToTelnetText(text)); }
  bool OutputDrained() const override { return out_.empty(); }
  void CloseTransport() override {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  // Waits for the socket to be readable, then reads into a buffer shared by every
  // connection on this thread: an idle connection holds no read buffer of its own.
  void StartRead() override {
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = Self()](const boost::system::error_code& ec) { self->OnReadable(ec); });
  }

  void OnReadable(boost::system::error_code ec) {
    thread_local std::array<char, 4096> buffer;
    size_t n = 0;
    if (!ec) {
      n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        if (!finished()) StartRead();  // a spurious wake-up
        return;
      }
    }
    OnRead(ec, std::string_view(buffer.data(), n));
  }

  void OnRead(const boost::system::error_code& ec, std::string_view bytes) {
    if (!ReadCompleted(ec, bytes.size())) return;
    if (!closing()) {
      std::string data;
      std::string reply;
      protocol_.Feed(bytes, data, reply);
      if (!reply.empty()) Write(reply);
      lines_.clear();
      splitter_.Feed(data, lines_);
      for (auto& line : lines_) {
        if (closing()) break;
        if (line.too_long) {
          SendText("That line was too long (more than " +
                   std::to_string(env().limits.max_line_bytes) + " bytes); it was ignored.");
          continue;
        }
        OnInputLine(std::move(line.text));
      }
    }
    // While closing we keep reading (and dropping) so the client's close is noticed.
    ReadNext();
  }

  void Write(std::string_view bytes) {
    if (bytes.empty()) return;
    Queue([bytes](std::string& out) { out.append(bytes); });
  }

  // Text for the player, turned into telnet bytes straight into the output queue: from the
  // stream's message to the socket's buffer without a string of its own.
  void WriteText(std::string_view text) {
    const size_t width = WrapWidth();
    Queue([text, width](std::string& out) { AppendTelnetText(out, text, width); });
  }

  template <typename Fill>
  void Queue(Fill&& fill) {
    if (finished()) return;
    if (!out_.AppendWith(std::forward<Fill>(fill))) {
      Abort(CloseReason::kSlowReader);
      return;
    }
    // Everything queued by handlers already waiting on the strand (a burst of events) goes
    // out in the one write this post starts.
    if (!flush_posted_ && !out_.writing()) {
      flush_posted_ = true;
      asio::post(executor(), [self = Self()] {
        self->flush_posted_ = false;
        self->Flush();
      });
    }
  }

  void Flush() {
    if (finished() || !out_.ReadyToWrite()) return;
    const std::string& bytes = out_.BeginWrite();
    asio::async_write(
        socket_, asio::buffer(bytes),
        [self = Self()](const boost::system::error_code& ec, size_t n) { self->OnWritten(ec, n); });
  }

  void OnWritten(const boost::system::error_code& ec, size_t n) {
    out_.Written();
    if (!WriteCompleted(ec, n)) return;
    Flush();
    if (out_.empty()) OnOutputDrained();
  }

  tcp::socket socket_;
  TelnetProtocol protocol_;
  LineSplitter splitter_;
  std::vector<InputLine> lines_;
  OutputQueue out_;
  bool flush_posted_ = false;
};

}  // namespace

void AcceptTelnet(tcp::socket socket, const ConnectionEnv& env) {
  auto address = AdmitConnection(
      env, Protocol::kTelnet, socket,
      [](ConnectionRegistry::Admit, std::string_view text) { return ToTelnetText(text); });
  if (!address) return;
  auto connection = std::make_shared<TelnetConnection>(std::move(socket), env);
  // Start is queued on the strand before anything Add may queue (a farewell).
  asio::post(connection->executor(), [connection] { connection->Start(); });
  env.registry->Add(connection.get(), connection, *address);
}

}  // namespace holomush::gateway
