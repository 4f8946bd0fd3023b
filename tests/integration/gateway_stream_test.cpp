// Many sessions on one Gateway stream of a real core: each gets its own output, a dropped
// stream resumes all of them with nothing lost or doubled, and one quit ends one session.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "db_helpers.hpp"
#include "holomush/common/tls.hpp"
#include "support/core_harness.hpp"
#include "support/net.hpp"
#include "support/postgres.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

using namespace std::chrono_literals;

// A gateway's side of one Gateway stream, kept by handle (sync API, reader thread).
class MuxClient {
 public:
  struct Seen {
    bool opened = false;
    size_t texts_before_opened = 0;     // how many texts came before `opened`
    int refused_code = 0;               // the `refused` status code, if any
    std::optional<std::string> closed;  // `closed` reason, or "refused: <message>"
    std::vector<std::string> texts;     // outputs and event texts, in order
    std::string last_event_id;
  };

  // With `read` false nothing is read until StartReading: core's writes stall once the
  // stream's flow-control window is full.
  explicit MuxClient(pb::Game::Stub& stub, bool read = true) {
    stream_ = stub.Gateway(&context_);
    if (read) StartReading();
  }
  void StartReading() {
    reader_ = std::thread([this] { ReadLoop(); });
  }
  ~MuxClient() { Drop(); }

  void Open(uint64_t handle, const pb::StartSessionReply& session,
            const std::string& last_event_id = "") {
    pb::GatewayUp up;
    AddOpenFrame(up, handle, session, last_event_id);
    stream_->Write(up);
  }
  // One batch: the open of `handle`, then its `lines`, before core could answer the open.
  void OpenWith(uint64_t handle, const pb::StartSessionReply& session,
                const std::vector<std::string>& lines) {
    pb::GatewayUp up;
    AddOpenFrame(up, handle, session, "");
    for (const auto& line : lines) {
      auto* frame = up.add_frames();
      frame->set_handle(handle);
      frame->mutable_command()->set_line(line);
    }
    stream_->Write(up);
  }
  // One batch with a command for each (handle, line), in that order.
  void Send(const std::vector<std::pair<uint64_t, std::string>>& commands) {
    pb::GatewayUp up;
    for (const auto& [handle, line] : commands) {
      auto* frame = up.add_frames();
      frame->set_handle(handle);
      frame->mutable_command()->set_line(line);
    }
    stream_->Write(up);
  }
  bool WaitOpened(uint64_t handle) {
    return Wait([&] { return seen_[handle].opened; });
  }
  bool WaitText(uint64_t handle, const std::string& text) {
    return Wait([&] {
      const auto& t = seen_[handle].texts;
      return std::find(t.begin(), t.end(), text) != t.end();
    });
  }
  bool WaitTextContaining(uint64_t handle, const std::string& needle) {
    return Wait([&] {
      const auto& t = seen_[handle].texts;
      return std::any_of(t.begin(), t.end(), [&](const std::string& text) {
        return text.find(needle) != std::string::npos;
      });
    });
  }
  bool WaitClosed(uint64_t handle) {
    return Wait([&] { return seen_[handle].closed.has_value(); });
  }
  Seen seen(uint64_t handle) {
    std::lock_guard lock(mu_);
    return seen_[handle];
  }
  int shared_frames() {
    std::lock_guard lock(mu_);
    return shared_frames_;
  }
  // The status core ended the stream with, once it has.
  std::optional<grpc::Status> WaitEnded() {
    if (!Wait([&] { return ended_.has_value(); })) return std::nullopt;
    std::lock_guard lock(mu_);
    return ended_;
  }
  size_t frames_read() {
    std::lock_guard lock(mu_);
    return frames_read_;
  }
  // Every event frame whose text contains `needle`: the number of the GatewayDown it came
  // in (counting from 0) and the handles it named.
  struct EventFrame {
    size_t down = 0;
    std::vector<uint64_t> handles;
    std::string text;
  };
  std::vector<EventFrame> event_frames(const std::string& needle) {
    std::lock_guard lock(mu_);
    std::vector<EventFrame> found;
    for (const auto& frame : event_frames_) {
      if (frame.text.find(needle) != std::string::npos) found.push_back(frame);
    }
    return found;
  }
  // Cuts the stream as a broken connection would.
  void Drop() {
    context_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

 private:
  bool Wait(const std::function<bool()>& condition) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 20s, condition);
  }
  void ReadLoop() {
    pb::GatewayDown down;
    while (stream_->Read(&down)) {
      std::lock_guard lock(mu_);
      frames_read_ += static_cast<size_t>(down.frames_size());
      for (const auto& frame : down.frames()) {
        if (frame.handles_size() > 1) ++shared_frames_;
        if (frame.message().has_event()) {
          event_frames_.push_back({downs_read_,
                                   {frame.handles().begin(), frame.handles().end()},
                                   frame.message().event().text()});
        }
        for (const uint64_t handle : frame.handles()) {
          Seen& s = seen_[handle];
          const auto& m = frame.message();
          if (m.has_opened()) {
            s.opened = true;
            s.texts_before_opened = s.texts.size();
          }
          if (m.has_output()) s.texts.push_back(m.output().text());
          if (m.has_event()) {
            s.texts.push_back(m.event().text());
            s.last_event_id = m.event().id();
          }
          if (m.has_closed()) s.closed = m.closed().reason();
          if (m.has_refused()) {
            s.closed = "refused: " + m.refused().message();
            s.refused_code = m.refused().code();
          }
        }
      }
      ++downs_read_;
      cv_.notify_all();
    }
    auto status = stream_->Finish();
    std::lock_guard lock(mu_);
    ended_ = std::move(status);
    cv_.notify_all();
  }

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::GatewayUp, pb::GatewayDown>> stream_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Seen> seen_;
  int shared_frames_ = 0;
  size_t frames_read_ = 0;
  size_t downs_read_ = 0;
  std::vector<EventFrame> event_frames_;
  std::optional<grpc::Status> ended_;
};

class GatewayStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = FreshDatabase("mux");
    core_ = std::make_unique<CoreProcess>(url_);
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
    accounts_ = std::make_unique<PlayerClient>(core_->address());
    for (const char* name : {"ana", "bob", "cid"}) {
      sessions_.push_back(Start(name));
      ASSERT_FALSE(sessions_.back().session_id().empty()) << name;
    }
  }

  pb::StartSessionReply Start(const std::string& name) {
    auto login = accounts_->Create(name, "secret-" + name);
    pb::StartSessionReply reply;
    if (!login.message().empty()) return reply;
    grpc::ClientContext ctx;
    pb::StartSessionRequest req;
    req.set_login_token(login.login_token());
    req.set_character_name(login.characters(0).name());
    (void)accounts_->stub().StartSession(&ctx, req, &reply);
    return reply;
  }

  // Opens ana, bob and cid as handles 1, 2, 3 on `mux`.
  void OpenAll(MuxClient& mux, const std::vector<std::string>& last_ids = {"", "", ""}) {
    for (uint64_t h = 1; h <= 3; ++h) mux.Open(h, sessions_[h - 1], last_ids[h - 1]);
    for (uint64_t h = 1; h <= 3; ++h) ASSERT_TRUE(mux.WaitOpened(h)) << h;
  }

  std::string url_;
  std::unique_ptr<CoreProcess> core_;
  std::unique_ptr<PlayerClient> accounts_;
  std::vector<pb::StartSessionReply> sessions_;
};

TEST_F(GatewayStreamTest, EachSessionOnOneStreamGetsItsOwnOutput) {
  MuxClient mux(accounts_->stub());
  OpenAll(mux);
  // Interleaved in one batch: a look, a say and a page, each answered to the right handle.
  mux.Send({{1, "say Hello all"}, {2, "look"}, {3, "page ana=psst"}, {2, "say Hi Ana"}});
  ASSERT_TRUE(mux.WaitText(1, "You say, \"Hello all\""));
  ASSERT_TRUE(mux.WaitText(2, "Ana says, \"Hello all\""));
  ASSERT_TRUE(mux.WaitText(3, "Ana says, \"Hello all\""));
  ASSERT_TRUE(mux.WaitText(1, "Bob says, \"Hi Ana\""));
  ASSERT_TRUE(mux.WaitText(2, "You say, \"Hi Ana\""));
  ASSERT_TRUE(mux.WaitText(3, "Bob says, \"Hi Ana\""));
  ASSERT_TRUE(mux.WaitText(1, "Cid pages: psst"));
  const auto ana = mux.seen(1);
  const auto bob = mux.seen(2);
  const auto cid = mux.seen(3);
  auto count = [](const MuxClient::Seen& s, const std::string& needle) {
    return std::count_if(s.texts.begin(), s.texts.end(),
                         [&](const std::string& t) { return t.find(needle) != std::string::npos; });
  };
  EXPECT_EQ(count(bob, "The Nexus"), 1);  // the look went to bob only
  EXPECT_EQ(count(ana, "The Nexus"), 0);
  EXPECT_EQ(count(cid, "The Nexus"), 0);
  EXPECT_EQ(count(ana, "psst"), 1);  // the page to ana only
  EXPECT_EQ(count(bob, "psst"), 0);
  for (const auto* s : {&ana, &bob, &cid}) {
    EXPECT_EQ(count(*s, "Hello all"), 1);
    EXPECT_EQ(count(*s, "Hi Ana"), 1);
  }
  // Per session, the order in which core ran its commands: bob's look, then bob's say. (Ana's
  // say runs on her own strand, so where it falls among bob's lines is not fixed.)
  const auto first = std::find_if(bob.texts.begin(), bob.texts.end(), [](const std::string& t) {
    return t.find("The Nexus") != std::string::npos;
  });
  const auto second = std::find(bob.texts.begin(), bob.texts.end(), "You say, \"Hi Ana\"");
  ASSERT_NE(second, bob.texts.end());
  EXPECT_LT(first, second);
  EXPECT_EQ(core_->Metric("holomush_sessions_active"), 3);
}

TEST_F(GatewayStreamTest, AnEventLeavesInOneWriteWithOneFrameForTheSessionsThatSeeItAlike) {
  MuxClient mux(accounts_->stub());
  OpenAll(mux);
  // `opened` comes before a session's replay is through, and what is delivered meanwhile
  // goes out after the replay on its own. A command's answer comes after it.
  mux.Send({{1, "look"}, {2, "look"}, {3, "look"}});
  for (uint64_t h = 1; h <= 3; ++h) ASSERT_TRUE(mux.WaitTextContaining(h, "The Nexus")) << h;
  mux.Send({{1, "say All together"}});
  for (uint64_t h = 2; h <= 3; ++h) ASSERT_TRUE(mux.WaitText(h, "Ana says, \"All together\""));
  ASSERT_TRUE(mux.WaitText(1, "You say, \"All together\""));
  // Ana's own line and one frame for bob and cid, together in one GatewayDown: core renders
  // once per viewpoint and writes the committed event to this gateway once.
  const auto frames = mux.event_frames("All together");
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].down, frames[1].down);
  std::map<std::string, std::set<uint64_t>> to;
  for (const auto& frame : frames)
    to[frame.text].insert(frame.handles.begin(), frame.handles.end());
  EXPECT_EQ(to["You say, \"All together\""], (std::set<uint64_t>{1}));
  EXPECT_EQ(to["Ana says, \"All together\""], (std::set<uint64_t>{2, 3}));
}

TEST_F(GatewayStreamTest, ADroppedStreamResumesAllItsSessionsWithNothingLostOrDoubled) {
  auto dave = std::make_unique<PlayerClient>(core_->address());
  ASSERT_TRUE(dave->Enter("dave", "secret-dave", true));
  auto mux = std::make_unique<MuxClient>(accounts_->stub());
  OpenAll(*mux);
  constexpr int kLines = 60;
  auto line = [](int i) { return "Dave says, \"line " + std::to_string(i) + "\""; };
  for (int i = 0; i < kLines / 2; ++i) dave->Send("say line " + std::to_string(i));
  ASSERT_TRUE(mux->WaitText(3, line(kLines / 2 - 1)));
  // Heard alike by all three: sent once per batch with their handles, not once each.
  EXPECT_GT(mux->shared_frames(), 0);
  std::vector<MuxClient::Seen> before;
  std::vector<std::string> last_ids;
  for (uint64_t h = 1; h <= 3; ++h) {
    before.push_back(mux->seen(h));
    last_ids.push_back(before.back().last_event_id);
  }
  // A stream is counted once, when it ends, by how it ended: none has yet.
  auto ended = [&] {
    const std::string body = HttpGet(core_->ops_port(), "/metrics").body;
    double n = 0;
    for (const char* code : {"OK", "CANCELLED", "UNAVAILABLE"}) {
      n += SeriesValue(body, std::string("holomush_grpc_requests_total{code=\"") + code +
                                 "\",method=\"Gateway\"}")
               .value_or(0);
    }
    return n;
  };
  EXPECT_EQ(ended(), 0);
  mux->Drop();
  EXPECT_TRUE(WaitUntil([&] { return ended() == 1; }))
      << HttpGet(core_->ops_port(), "/metrics").body;
  // Said while nobody of the three is attached: replayed on resume.
  for (int i = kLines / 2; i < kLines - 10; ++i) dave->Send("say line " + std::to_string(i));
  ASSERT_TRUE(dave->WaitFor("You say, \"line " + std::to_string(kLines - 11) + "\""));
  MuxClient again(accounts_->stub());
  OpenAll(again, last_ids);
  // Said while the replay may still be running: live after it, in order.
  for (int i = kLines - 10; i < kLines; ++i) dave->Send("say line " + std::to_string(i));
  for (uint64_t h = 1; h <= 3; ++h) {
    ASSERT_TRUE(again.WaitText(h, line(kLines - 1))) << h;
    std::vector<std::string> all;
    for (const auto& t : before[h - 1].texts) {
      if (t.rfind("Dave says, \"line ", 0) == 0) all.push_back(t);
    }
    for (const auto& t : again.seen(h).texts) {
      if (t.rfind("Dave says, \"line ", 0) == 0) all.push_back(t);
    }
    ASSERT_EQ(all.size(), static_cast<size_t>(kLines)) << h;
    for (int i = 0; i < kLines; ++i) EXPECT_EQ(all[i], line(i)) << h;
  }
  EXPECT_EQ(core_->Metric("holomush_sessions_active"), 4);
}

TEST_F(GatewayStreamTest, CommandsInTheSameBatchAsTheOpenRunRightAfterItInOrder) {
  MuxClient mux(accounts_->stub());
  mux.OpenWith(1, sessions_[0], {"say early one", "look", "say early two"});
  ASSERT_TRUE(mux.WaitText(1, "You say, \"early two\""));
  const auto ana = mux.seen(1);
  EXPECT_EQ(ana.texts_before_opened, 0u);
  // The look answers at once; a say is heard once its event is committed: only the two says
  // keep their order on the wire. All three ran.
  const auto one = std::find(ana.texts.begin(), ana.texts.end(), "You say, \"early one\"");
  const auto two = std::find(ana.texts.begin(), ana.texts.end(), "You say, \"early two\"");
  ASSERT_NE(one, ana.texts.end());
  EXPECT_LT(one, two);
  EXPECT_EQ(std::count_if(ana.texts.begin(), ana.texts.end(),
                          [](const std::string& t) { return t.rfind("The Nexus", 0) == 0; }),
            1);
  EXPECT_EQ(QueryOne(url_,
                     "SELECT string_agg(payload->>'message', ',' ORDER BY id) FROM events"
                     " WHERE payload->>'message' LIKE 'early %'"),
            "early one,early two");
}

TEST_F(GatewayStreamTest, CommandsBeyondTheBacklogBeforeTheOpenAreAnsweredBusyAtOnce) {
  // 40 says in the open's batch: the first 32 (a session's backlog) wait for the open and
  // run in order; the other 8 are answered busy at once, before `opened`, and counted.
  std::vector<std::string> lines;
  for (int i = 1; i <= 40; ++i) lines.push_back("say early " + std::to_string(i));
  MuxClient mux(accounts_->stub());
  mux.OpenWith(1, sessions_[0], lines);
  ASSERT_TRUE(mux.WaitText(1, "You say, \"early 32\""));
  const auto ana = mux.seen(1);
  ASSERT_EQ(ana.texts_before_opened, 8u);
  for (size_t i = 0; i < 8; ++i)
    EXPECT_EQ(ana.texts[i], "The server is busy, try again in a moment.");
  std::string expected;
  for (int i = 1; i <= 32; ++i) expected += (i > 1 ? "," : "") + ("early " + std::to_string(i));
  EXPECT_EQ(QueryOne(url_,
                     "SELECT string_agg(payload->>'message', ',' ORDER BY id) FROM events"
                     " WHERE payload->>'message' LIKE 'early %'"),
            expected);
  EXPECT_EQ(core_->Metric("holomush_commands_refused_total{reason=\"backlog\"}"), 8.0);
}

TEST_F(GatewayStreamTest, AStreamNotReadIsEndedPastItsQueueAndItsSessionResumesOnTheNext) {
  // A gateway that stops reading: a small flow-control window on its side, so core's writes
  // stall at once and what it answers collects in the stream's queue.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8192);
  auto stub = pb::Game::NewStub(grpc::CreateCustomChannel(
      core_->address(), common::MutualTlsClientCredentials(TestCertsDir(), "gateway"), args));
  MuxClient stalled(*stub, /*read=*/false);
  stalled.Open(1, sessions_[0]);
  // 70,000 commands: past the burst and the backlog each is answered at once by one frame
  // (too fast, or busy), so more than 65,536 frames wait.
  for (int batch = 0; batch < 70; ++batch) {
    stalled.Send(std::vector<std::pair<uint64_t, std::string>>(1000, {1, "xyzzy"}));
  }
  // Core says when it cuts a stream off; only then does this gateway read again.
  ASSERT_TRUE(WaitUntil(
      [&] { return core_->process().Output().find("gateway stream cut off") != std::string::npos; },
      60s))
      << core_->process().Output();
  stalled.StartReading();
  const auto status = stalled.WaitEnded();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(status->error_message(), "stream not being read");
  // What was queued was dropped, not sent: far fewer frames than answers.
  EXPECT_LT(stalled.frames_read(), 65'536u);
  EXPECT_TRUE(WaitUntil([&] {
    return core_->Metric(
               "holomush_grpc_requests_total{code=\"RESOURCE_EXHAUSTED\",method=\"Gateway\"}") ==
           1.0;
  }));
  // Ana was detached, not ended: the next stream resumes her and she plays on (she hears
  // Bob; her own flood drained her command rate for a moment).
  MuxClient next(accounts_->stub());
  next.Open(5, sessions_[0], stalled.seen(1).last_event_id);
  next.Open(6, sessions_[1]);
  ASSERT_TRUE(next.WaitOpened(5));
  ASSERT_TRUE(next.WaitOpened(6));
  next.Send({{6, "say after the stall"}});
  EXPECT_TRUE(next.WaitText(5, "Bob says, \"after the stall\""));
}

TEST_F(GatewayStreamTest, OpeningASessionOnAnotherStreamRefusesTheOldHandleAborted) {
  MuxClient first(accounts_->stub());
  OpenAll(first);
  MuxClient second(accounts_->stub());
  second.Open(7, sessions_[0]);  // ana, taken over (another gateway, or a reconnect)
  ASSERT_TRUE(second.WaitOpened(7));
  ASSERT_TRUE(first.WaitClosed(1));
  EXPECT_EQ(*first.seen(1).closed, "refused: session opened on another stream");
  EXPECT_EQ(first.seen(1).refused_code, static_cast<int>(grpc::StatusCode::ABORTED));
  // The new handle has her; the old stream keeps its other sessions.
  second.Send({{7, "say moved"}});
  ASSERT_TRUE(first.WaitText(2, "Ana says, \"moved\""));
  const auto old_handle = first.seen(1);
  EXPECT_EQ(std::count(old_handle.texts.begin(), old_handle.texts.end(), "You say, \"moved\""), 0);
  EXPECT_TRUE(second.WaitText(7, "You say, \"moved\""));
  EXPECT_EQ(core_->Metric("holomush_sessions_active"), 3);
}

TEST_F(GatewayStreamTest, OneSessionsQuitLeavesTheOthersOnTheStream) {
  MuxClient mux(accounts_->stub());
  OpenAll(mux);
  mux.Send({{3, "quit"}});
  ASSERT_TRUE(mux.WaitClosed(3));
  EXPECT_EQ(*mux.seen(3).closed, "Goodbye.");
  ASSERT_TRUE(mux.WaitText(1, "Cid has disconnected."));
  mux.Send({{1, "say still here"}, {3, "say ghost"}});
  ASSERT_TRUE(mux.WaitText(2, "Ana says, \"still here\""));
  ASSERT_TRUE(mux.WaitText(1, "You say, \"still here\""));
  EXPECT_FALSE(mux.seen(1).closed.has_value());
  EXPECT_FALSE(mux.seen(2).closed.has_value());
  // The quit session's handle is gone: a late command is refused, nothing is said.
  ASSERT_TRUE(WaitUntil([&] { return mux.seen(3).closed != "Goodbye."; }));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM events WHERE payload::text LIKE '%ghost%'"), "0");
  EXPECT_TRUE(WaitUntil([&] { return core_->Metric("holomush_sessions_active") == 2; }));
}

}  // namespace
}  // namespace holomush::testing
