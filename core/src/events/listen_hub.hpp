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
  void Subscribe(const std::string& stream, const std::shared_ptr<EventSubscriber>& subscriber);
  void Unsubscribe(const std::string& stream, const EventSubscriber* subscriber);
  // Payloads NOTIFYed on holomush_aliases ("player:<id>:<alias>" or "system::<alias>"), and
  // a reload request (empty payload) after the listener reconnects.
  void OnAliasChange(std::function<void(const std::string& payload)> handler);
  // This process's own events, kept until their notification arrives.
  void Remember(const std::vector<EventRecord>& events);
  void Forget(const std::vector<EventRecord>& events);
  bool connected() const { return connected_; }

 private:
  class Receiver;
  void Run();
  void HandleEvents(const std::string& payload);
  std::vector<std::shared_ptr<EventSubscriber>> AllSubscribers();

  std::string url_;
  EventStore& events_;
  common::Health& health_;
  common::Logger log_{"core.listen"};
  std::function<void(const std::string&)> alias_handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;

  std::mutex mu_;  // guards subscribers_ and local_
  std::map<std::string, std::map<const EventSubscriber*, std::weak_ptr<EventSubscriber>>>
      subscribers_;
  std::unordered_map<std::string, EventRecord> local_;
};

}  // namespace holomush::core
