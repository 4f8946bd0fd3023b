#include "support/core_harness.hpp"

#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "holomush/common/certs.hpp"
#include "holomush/common/tls.hpp"
#include "support/net.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

int PortFrom(const std::string& line, const std::string& key) {
  auto value = nlohmann::json::parse(line)[key].get<std::string>();
  return std::stoi(value.substr(value.rfind(':') + 1));
}

}  // namespace

const std::string& TestCertsDir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("holomush-test-certs-" + std::to_string(::getpid()));
    common::WriteCertificateSet(common::GenerateCertificateSet({}), d.string());
    return d.string();
  }();
  return dir;
}

CoreProcess::CoreProcess(std::string database_url, std::vector<std::string> extra_args,
                         std::map<std::string, std::string> env)
    : database_url_(std::move(database_url)),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)) {}

bool CoreProcess::Start() {
  if (fixed_grpc_port_ == 0) fixed_grpc_port_ = FreePort();
  std::vector<std::string> argv = {
      HOLOMUSH_BINARY,    "core",
      "--grpc-addr",      "127.0.0.1:" + std::to_string(fixed_grpc_port_),
      "--ops-addr",       "127.0.0.1:0",
      "--tls-dir",        TestCertsDir(),
      "--shutdown-grace", "5s"};
  argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
  auto env = env_;
  env["DATABASE_URL"] = database_url_;
  process_.reset();
  process_ = std::make_unique<ChildProcess>(argv, env);
  auto grpc_line = process_->WaitForLine("\"msg\":\"grpc listening\"", std::chrono::seconds(60));
  auto ops_line = process_->WaitForLine("\"msg\":\"started\"", std::chrono::seconds(10));
  if (!grpc_line || !ops_line) return false;
  grpc_port_ = PortFrom(*grpc_line, "grpc_addr");
  ops_port_ = PortFrom(*ops_line, "ops_addr");
  return true;
}

void CoreProcess::Stop(int signal) {
  if (!process_) return;
  process_->Signal(signal);
  process_->Wait(std::chrono::seconds(15));
}

void CoreProcess::Kill() { Stop(9); }

bool CoreProcess::WaitReady(int status, std::chrono::milliseconds timeout) {
  return WaitUntil([&] { return HttpGet(ops_port_, "/healthz/readiness").status == status; },
                   timeout);
}

std::optional<double> CoreProcess::Metric(const std::string& series) {
  return SeriesValue(HttpGet(ops_port_, "/metrics").body, series);
}

PlayerClient::PlayerClient(const std::string& address)
    : channel_(grpc::CreateChannel(address,
                                   common::MutualTlsClientCredentials(TestCertsDir(), "gateway"))),
      stub_(pb::Game::NewStub(channel_)) {}

PlayerClient::~PlayerClient() { Drop(); }

pb::LoginReply PlayerClient::Create(const std::string& username, const std::string& password) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  pb::Credentials req;
  req.set_username(username);
  req.set_password(password);
  pb::LoginReply reply;
  auto status = stub_->CreateAccount(&ctx, req, &reply);
  if (!status.ok()) reply.set_message("rpc failed: " + status.error_message());
  return reply;
}

pb::LoginReply PlayerClient::Login(const std::string& username, const std::string& password) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  pb::Credentials req;
  req.set_username(username);
  req.set_password(password);
  pb::LoginReply reply;
  auto status = stub_->Login(&ctx, req, &reply);
  if (!status.ok()) reply.set_message("rpc failed: " + status.error_message());
  return reply;
}

bool PlayerClient::Enter(const std::string& username, const std::string& password, bool create) {
  auto login = create ? Create(username, password) : Login(username, password);
  if (!login.message().empty() || login.characters_size() == 0) return false;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  pb::StartSessionRequest req;
  req.set_login_token(login.login_token());
  req.set_character_name(login.characters(0).name());
  if (!stub_->StartSession(&ctx, req, &session_).ok() || !session_.message().empty()) return false;
  return Open();
}

void AddOpenFrame(pb::GatewayUp& up, uint64_t handle, const pb::StartSessionReply& session,
                  const std::string& last_event_id) {
  auto* frame = up.add_frames();
  frame->set_handle(handle);
  frame->mutable_open()->set_session_id(session.session_id());
  frame->mutable_open()->set_resume_token(session.resume_token());
  frame->mutable_open()->set_last_event_id(last_event_id);
  frame->mutable_open()->set_protocol("telnet");
}

bool PlayerClient::Open(const std::string& last_event_id) {
  Drop();
  {
    std::lock_guard lock(mu_);
    opened_ = false;
    closed_.reset();
  }
  context_ = std::make_unique<grpc::ClientContext>();
  stream_ = stub_->Gateway(context_.get());
  pb::GatewayUp up;
  AddOpenFrame(up, kHandle, session_, last_event_id);
  if (!stream_->Write(up)) return false;
  reader_ = std::thread([this] { ReadLoop(); });
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(20), [this] { return opened_ || closed_; }) &&
         opened_;
}

void PlayerClient::ReadLoop() {
  pb::GatewayDown down;
  while (stream_->Read(&down)) {
    std::lock_guard lock(mu_);
    for (const auto& frame : down.frames()) {
      const auto& msg = frame.message();
      switch (msg.kind_case()) {
        case pb::ServerMessage::kOpened:
          opened_ = true;
          break;
        case pb::ServerMessage::kOutput:
          texts_.push_back(msg.output().text());
          break;
        case pb::ServerMessage::kEvent:
          texts_.push_back(msg.event().text());
          last_event_id_ = msg.event().id();
          break;
        case pb::ServerMessage::kClosed:
          closed_ = msg.closed().reason();
          break;
        case pb::ServerMessage::kRefused:
          // As the end of a stream of its own would read.
          closed_ = "stream ended: " + msg.refused().message();
          break;
        default:
          break;
      }
    }
    cv_.notify_all();
  }
  auto status = stream_->Finish();
  std::lock_guard lock(mu_);
  if (!closed_) closed_ = "stream ended: " + status.error_message();
  cv_.notify_all();
}

void PlayerClient::Send(const std::string& line) {
  pb::GatewayUp up;
  auto* frame = up.add_frames();
  frame->set_handle(kHandle);
  frame->mutable_command()->set_line(line);
  stream_->Write(up);
}

std::optional<std::string> PlayerClient::WaitFor(const std::string& needle,
                                                 std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<std::string> found;
  cv_.wait_for(lock, timeout, [&] {
    for (auto it = texts_.begin(); it != texts_.end(); ++it) {
      if (it->find(needle) != std::string::npos) {
        found = *it;
        texts_.erase(texts_.begin(), it + 1);
        return true;
      }
    }
    return false;
  });
  return found;
}

std::string PlayerClient::PresentAfter(const std::string& command) {
  Send(command);
  auto text = WaitFor("Present:");
  return text ? text->substr(text->rfind("Present:")) : "no answer to " + command;
}

void PlayerClient::Drop() {
  if (context_) context_->TryCancel();
  if (reader_.joinable()) reader_.join();
  stream_.reset();
  context_.reset();
}

std::vector<std::string> PlayerClient::Take() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(texts_.begin(), texts_.end());
  texts_.clear();
  return out;
}

std::string PlayerClient::last_event_id() {
  std::lock_guard lock(mu_);
  return last_event_id_;
}

std::optional<std::string> PlayerClient::closed_reason() {
  std::lock_guard lock(mu_);
  return closed_;
}

int AdminCreate(const std::string& database_url, const std::vector<std::string>& args,
                const std::string& password, std::string* output) {
  std::vector<std::string> argv = {HOLOMUSH_BINARY, "admin", "create"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, {{"DATABASE_URL", database_url}, {"HOLOMUSH_ADMIN_PASSWORD", password}});
  auto code = p.Wait(std::chrono::seconds(60));
  if (output) *output = p.Output();
  return code.value_or(-1);
}

}  // namespace holomush::testing
