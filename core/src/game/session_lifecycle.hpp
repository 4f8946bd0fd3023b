// A session's life in this core process: start after login, open and resume on a stream,
// detach, lease renewal and expiry, end.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core_metrics.hpp"
#include "events/listen_hub.hpp"
#include "game/announcer.hpp"
#include "game/presence_cache.hpp"
#include "game/stores.hpp"
#include "game/who_cache.hpp"
#include "session/registry.hpp"

namespace holomush::core {

// Thread-safe: Start and Who run on any pool thread; Open hops to the pool, then to the
// session's strand; End runs on the session's strand.
class SessionLifecycle {
 public:
  SessionLifecycle(Stores& stores, ListenHub& hub, SessionRegistry& registry, CoreMetrics& metrics,
                   Announcer& announcer, PresenceCache& presence,
                   boost::asio::any_io_executor executor, std::chrono::seconds linger);

  Result<pb::StartSessionReply> Start(const std::string& login_token,
                                      const std::string& character_name);
  // Who is connected, from a reply at most a second old (see WhoCache).
  Result<std::vector<WhoRow>> Who() { return who_.Get(); }

  // Verifies the resume token, attaches `sink` and replays. `opened` runs on the session's
  // strand once the session is known, with it and the number of events about to be
  // replayed, before they are sent; `refused` runs instead when the session cannot open.
  void Open(const pb::OpenSession& open, std::shared_ptr<SessionSink> sink,
            std::function<void(const std::shared_ptr<CoreSession>&, int replayed)> opened,
            std::function<void(const common::Error&)> refused);
  // The stream went away; the session lingers for `linger`.
  void Detach(const std::shared_ptr<CoreSession>& session, const SessionSink* sink);
  // Renews this process's lease (which keeps its attached sessions connected) and ends
  // sessions that lingered too long (called every few seconds, well inside the 30 s lease).
  void Expire();
  // Ends the session for good (quit, boot): `reason` goes to the player.
  void End(CoreSession& s, const std::string& reason, bool announce);

 private:
  void UpdateActiveGauge();

  Stores& stores_;
  ListenHub& hub_;
  SessionRegistry& registry_;
  CoreMetrics& metrics_;
  Announcer& announcer_;
  PresenceCache& presence_;  // a session that starts or ends changes who is present
  boost::asio::any_io_executor executor_;
  std::chrono::seconds linger_;
  const std::string core_id_;  // this process's lease in `core_leases`
  WhoCache who_;
  std::mutex gauge_mu_;  // UpdateActiveGauge's count and set
};

}  // namespace holomush::core
