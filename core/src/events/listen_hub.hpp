// LISTEN side of the event flow: every core process hears every commit and delivers each
// event to the sessions of this process subscribed to its stream.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "store/store.hpp"

namespace holomush::core {

// Implemented by sessions. Deliver() must not block (it runs on the listener thread).
class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  virtual void Deliver(const EventRecord& event) = 0;
  // The listener lost its connection for a while: catch up from the database.
  virtual void Resync() = 0;
};

// Owns the listener thread and its dedicated connection. Subscriptions are held weakly: a
// session that goes away simply stops receiving.
class ListenHub {
 public:
  ListenHub(std::string database_url, EventStore& events, common::Health& health);
  ~ListenHub();

  void Start();
  void Stop();
  // `watcher` sees every event this process hears (its own and other replicas'), before
  // any session is given it, on the delivering thread; it must not block. Set before Start().
  void WatchEvents(std::function<void(const EventRecord&)> watcher);
  void Subscribe(const std::string& stream, const std::shared_ptr<EventSubscriber>& subscriber);
  void Unsubscribe(const std::string& stream, const EventSubscriber* subscriber);
  // Calls `handler` with each payload NOTIFYed on `channel` (holomush_aliases,
  // holomush_world), and with an empty payload each time the listener connects: whatever
  // changed while nobody listened must be re-read. Before Start() only.
  void OnNotify(const std::string& channel,
                std::function<void(const std::string& payload)> handler);
  // This process's own events: Remember() before their commit, then Publish() delivers
  // them to local sessions at once, or Forget() when the commit failed. Their notification
  // is recognised and skipped, whichever arrives first.
  void Remember(const std::vector<EventRecord>& events);
  void Publish(const std::vector<EventRecord>& events);
  void Forget(const std::vector<EventRecord>& events);
  bool connected() const { return connected_; }

 private:
  class Receiver;
  void Run();
  void HandleEvents(const std::string& payload);
  void Deliver(const std::vector<EventRecord>& events);
  std::vector<std::shared_ptr<EventSubscriber>> AllSubscribers();

  std::string url_;
  EventStore& events_;
  common::Health& health_;
  // Beaten every 200 ms by the listener loop; connecting and queries are outside it.
  common::Heartbeat* heartbeat_;
  common::Logger log_{"core.listen"};
  std::map<std::string, std::function<void(const std::string&)>> handlers_;  // by channel
  std::function<void(const EventRecord&)> watcher_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;

  // Where one of this process's events stands: written but not yet committed, delivered
  // (its notification still to come), or notified before it was delivered.
  enum class Own { kPending, kPublished, kNotified };

  std::mutex mu_;  // guards subscribers_ and own_
  std::map<std::string, std::map<const EventSubscriber*, std::weak_ptr<EventSubscriber>>>
      subscribers_;
  std::unordered_map<std::string, Own> own_;
};

}  // namespace holomush::core
