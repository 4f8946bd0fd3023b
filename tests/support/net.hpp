// Plain-socket helpers for tests: a tiny HTTP client and a line-oriented TCP client.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace holomush::testing {

struct HttpResponse {
  int status = 0;  // 0 when the request failed
  std::string body;
  std::string headers;
};

// One request on a fresh connection (Connection: close).
HttpResponse HttpRequest(const std::string& method, int port, const std::string& path,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
inline HttpResponse HttpGet(int port, const std::string& path) {
  return HttpRequest("GET", port, path);
}

// Returns a free loopback port (bound then released).
int FreePort();

// The value of one series in a Prometheus text exposition (`name{labels}` exactly as
// exposed, at the start of a line), or nullopt.
std::optional<double> SeriesValue(const std::string& exposition, const std::string& series);

// A blocking TCP client on 127.0.0.1 with a read buffer; used for telnet tests.
class TcpClient {
 public:
  explicit TcpClient(int port);
  ~TcpClient();
  TcpClient(const TcpClient&) = delete;
  TcpClient& operator=(const TcpClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool Send(const std::string& bytes);
  // Reads until `needle` appears in what was received since the last ReadUntil; returns
  // everything up to and including it, or nullopt on timeout or close.
  std::optional<std::string> ReadUntil(
      const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Everything received so far that ReadUntil has not consumed.
  std::string Pending() const { return buffer_; }
  // True once the peer closed (reads what arrives meanwhile into the buffer).
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Close();
  int fd() const { return fd_; }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace holomush::testing
