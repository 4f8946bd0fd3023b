// Leading under an API server that throttles: the lease client does not wait out 429s, and
// the elector stops leading before the lease it last renewed could pass to another replica.
#include "holomush/operator/leader_election.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "support/wait.hpp"

namespace holomush::op {
namespace {

using common::ErrorKind;
using common::MakeError;
using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// An HTTP server on loopback that answers every request 429 with Retry-After: 1, as a
// throttling kube-apiserver does, and counts the requests.
class ThrottlingServer {
 public:
  ThrottlingServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ThrottlingServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    while (!stopping_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(client, buf, sizeof(buf));
        if (n <= 0) break;
        request.append(buf, static_cast<size_t>(n));
      }
      ++requests_;
      const std::string body =
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too many requests, please try again later","reason":"TooManyRequests","code":429})";
      const std::string reply =
          "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\n"
          "Connection: close\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      (void)!::write(client, reply.data(), reply.size());
      ::close(client);
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

TEST(LeaseClientTest, AThrottledRequestIsAnsweredAtOnceNotWaitedOut) {
  ThrottlingServer server;
  KubeConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(server.port());
  config.request_timeout = milliseconds(2000);
  config.retry_throttled = false;  // as the leader elector's client
  auto lease_client = MakeCurlKubeClient(config, nullptr);
  auto got = lease_client->Get(kinds::kLease, "ns", "holomush-operator");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("too many requests"), std::string::npos)
      << got.error().message;
  EXPECT_EQ(server.requests(), 1) << "the lease client waited out a 429 and tried again";

  // Every other client waits the server's Retry-After and tries again (three tries).
  config.retry_throttled = true;
  auto client = MakeCurlKubeClient(config, nullptr);
  EXPECT_FALSE(client->Get(kinds::kLease, "ns", "holomush-operator").ok());
  EXPECT_EQ(server.requests(), 1 + 3);
}

// A Lease in memory whose API turns throttled on demand: every call then takes `delay` (a
// request timing out) and fails.
class LeaseKube final : public KubeClient {
 public:
  explicit LeaseKube(milliseconds delay) : delay_(delay) {}
  std::atomic<bool> throttled{false};
  // When the attempt that last renewed began (its Get).
  std::atomic<steady_clock::time_point> renewal_began{};

  common::Result<Json> Get(const ResourceType&, const std::string&, const std::string&) override {
    const auto began = steady_clock::now();
    if (throttled) return Throttled();
    std::lock_guard<std::mutex> lock(mu_);
    get_began_ = began;
    if (lease_.is_null()) return MakeError(ErrorKind::kNotFound, "no lease");
    return lease_;
  }
  common::Result<Json> Create(const ResourceType&, const std::string&,
                              const Json& object) override {
    if (throttled) return Throttled();
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = object;
    lease_["metadata"]["resourceVersion"] = std::to_string(++version_);
    renewal_began = get_began_;
    return lease_;
  }
  common::Result<Json> Update(const ResourceType&, const Json& object) override {
    if (throttled) return Throttled();
    std::lock_guard<std::mutex> lock(mu_);
    if (object["metadata"].value("resourceVersion", "") !=
        lease_["metadata"].value("resourceVersion", "")) {
      return MakeError(ErrorKind::kConflict, "conflict");
    }
    lease_ = object;
    lease_["metadata"]["resourceVersion"] = std::to_string(++version_);
    renewal_began = get_began_;
    return lease_;
  }
  common::Result<ListResult> List(const ResourceType&, const std::string&,
                                  const std::string&) override {
    return ListResult{};
  }
  common::Result<WatchEnd> Watch(const ResourceType&, const std::string&, const std::string&,
                                 const std::string& rv,
                                 const std::function<void(const WatchEvent&)>&,
                                 const std::function<bool()>&) override {
    return WatchEnd{false, rv};
  }
  common::Result<Json> Apply(const ResourceType&, const Json& object, bool) override {
    return object;
  }
  common::Status Delete(const ResourceType&, const std::string&, const std::string&) override {
    return common::Ok{};
  }
  common::Result<bool> Serves(const std::string&, const std::string&) override { return true; }

 private:
  common::Result<Json> Throttled() {
    std::this_thread::sleep_for(delay_);  // the request's own time, not synchronisation
    return MakeError(ErrorKind::kUnavailable, "too many requests (429)");
  }

  milliseconds delay_;
  std::mutex mu_;
  Json lease_;
  uint64_t version_ = 0;
  steady_clock::time_point get_began_{};
};

TEST(LeaderElectorTest, StopsLeadingBeforeItsLastLeaseCouldPassToAnother) {
  const LeaderElectionOptions options{.ns = "ns",
                                      .name = "holomush-operator",
                                      .identity = "a",
                                      .lease_duration = milliseconds(3000),
                                      .renew_deadline = milliseconds(1500),
                                      .retry_period = milliseconds(100)};
  // Each throttled request takes as long as the lease client's timeout would let it.
  LeaseKube kube(milliseconds(300));
  LeaderElector elector(kube, options, common::Logger("test"));
  std::atomic<bool> leading{false};
  std::atomic<int> stopped{-1};  // -1 running, 0 lost, 1 released
  std::atomic<steady_clock::time_point> stopped_at{};
  std::thread runner([&] {
    elector.Run([&] { leading = true; },
                [&](bool released) {
                  stopped_at = steady_clock::now();
                  stopped = released ? 1 : 0;
                });
  });
  ASSERT_TRUE(testing::WaitUntil([&] { return leading.load(); }));
  // A few renewals, then the API server throttles every request.
  const auto renewed = kube.renewal_began.load();
  ASSERT_TRUE(testing::WaitUntil([&] { return kube.renewal_began.load() != renewed; }));
  kube.throttled = true;
  ASSERT_TRUE(testing::WaitUntil([&] { return stopped.load() != -1; }, milliseconds(10000)));
  runner.join();
  EXPECT_EQ(stopped.load(), 0) << "lost, not released";
  EXPECT_FALSE(elector.Leading());
  const auto led_for = stopped_at.load() - kube.renewal_began.load();
  // Another replica may take the lease lease_duration after the last renewal began; this one
  // must have stopped by then (at most renew_deadline + one attempt of two requests).
  EXPECT_LT(led_for, options.lease_duration);
  EXPECT_GE(led_for, options.renew_deadline);
}

}  // namespace
}  // namespace holomush::op
