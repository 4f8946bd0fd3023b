#include "events/listen_hub.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <pqxx/pqxx>

#include "events/delivery_batch.hpp"
#include "events/event_writer.hpp"

namespace holomush::core {

class ListenHub::Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& conn, const std::string& channel,
           std::function<void(const std::string&)> handler)
      : pqxx::notification_receiver(conn, channel), handler_(std::move(handler)) {}
  void operator()(const std::string& payload, int) override { handler_(payload); }

 private:
  std::function<void(const std::string&)> handler_;
};

ListenHub::ListenHub(std::string database_url, EventStore& events, common::Health& health)
    : url_(std::move(database_url)),
      events_(events),
      health_(health),
      heartbeat_(health.AddHeartbeat("listener loop", std::chrono::seconds(30))) {
  health_.Set("listener", false, "not connected yet");
}

ListenHub::~ListenHub() { Stop(); }

void ListenHub::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ListenHub::Stop() {
  heartbeat_->Retire();
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ListenHub::OnNotify(const std::string& channel,
                         std::function<void(const std::string&)> handler) {
  handlers_[channel] = std::move(handler);
}

void ListenHub::WatchEvents(std::function<void(const EventRecord&)> watcher) {
  watcher_ = std::move(watcher);
}

void ListenHub::Subscribe(const std::string& stream,
                          const std::shared_ptr<EventSubscriber>& subscriber) {
  std::lock_guard lock(mu_);
  subscribers_[stream][subscriber.get()] = subscriber;
}

void ListenHub::Unsubscribe(const std::string& stream, const EventSubscriber* subscriber) {
  std::lock_guard lock(mu_);
  auto it = subscribers_.find(stream);
  if (it == subscribers_.end()) return;
  it->second.erase(subscriber);
  if (it->second.empty()) subscribers_.erase(it);
}

void ListenHub::Remember(const std::vector<EventRecord>& events) {
  std::lock_guard lock(mu_);
  for (const auto& e : events) own_[e.id] = Own::kPending;
}

void ListenHub::Publish(const std::vector<EventRecord>& events) {
  {
    std::lock_guard lock(mu_);
    for (const auto& e : events) {
      auto it = own_.find(e.id);
      if (it != own_.end() && it->second == Own::kNotified) {
        own_.erase(it);
      } else {
        own_[e.id] = Own::kPublished;
      }
    }
  }
  Deliver(events);
}

void ListenHub::Forget(const std::vector<EventRecord>& events) {
  std::lock_guard lock(mu_);
  for (const auto& e : events) own_.erase(e.id);
}

std::vector<std::shared_ptr<EventSubscriber>> ListenHub::AllSubscribers() {
  std::lock_guard lock(mu_);
  std::map<const EventSubscriber*, std::shared_ptr<EventSubscriber>> unique;
  for (auto& [stream, subs] : subscribers_) {
    for (auto& [ptr, weak] : subs) {
      if (auto s = weak.lock()) unique[ptr] = s;
    }
  }
  std::vector<std::shared_ptr<EventSubscriber>> out;
  for (auto& [ptr, s] : unique) out.push_back(s);
  return out;
}

void ListenHub::HandleEvents(const std::string& payload) {
  std::vector<std::string> ids;
  for (size_t start = 0; start < payload.size();) {
    auto comma = payload.find(',', start);
    if (comma == std::string::npos) comma = payload.size();
    ids.push_back(payload.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<std::string> missing;
  {
    std::lock_guard lock(mu_);
    for (auto& id : ids) {
      auto it = own_.find(id);
      if (it == own_.end()) {
        missing.push_back(std::move(id));
      } else if (it->second == Own::kPending) {
        it->second = Own::kNotified;  // committed; the writer is about to deliver it
      } else {
        own_.erase(it);  // already delivered by the writer
      }
    }
  }
  if (missing.empty()) return;
  // Another core process wrote these: read them once for all local sessions.
  auto fetched = [&] {
    common::Heartbeat::Outside in_database(heartbeat_);
    return events_.ReadIds(missing);
  }();
  if (!fetched) {
    log_.Warn("could not read notified events; sessions will resync",
              {{"error", fetched.error().message}});
    for (auto& s : AllSubscribers()) s->Resync();
    return;
  }
  Deliver(*fetched);
}

void ListenHub::Deliver(const std::vector<EventRecord>& events) {
  // In id order (ReadIds sorts; a writer's batch is in id order already). All of it leaves
  // in one write per gateway stream.
  DeliveryBatch batch;
  std::vector<std::shared_ptr<EventSubscriber>> targets;
  for (const auto& e : events) {
    if (watcher_) watcher_(e);
    targets.clear();
    {
      std::lock_guard lock(mu_);
      auto it = subscribers_.find(e.stream);
      if (it == subscribers_.end()) continue;
      for (auto& [ptr, weak] : it->second) {
        if (auto s = weak.lock()) targets.push_back(std::move(s));
      }
    }
    for (auto& s : targets) s->Deliver(e);
  }
}

void ListenHub::Run() {
  auto backoff = std::chrono::milliseconds(100);
  bool ever_connected = false;
  while (!stopping_) {
    heartbeat_->Beat();
    try {
      std::optional<common::Heartbeat::Outside> connecting(std::in_place, heartbeat_);
      pqxx::connection conn(url_);
      Receiver events(conn, kEventsChannel, [this](const std::string& p) { HandleEvents(p); });
      std::vector<std::unique_ptr<Receiver>> receivers;
      for (const auto& [channel, handler] : handlers_) {
        receivers.push_back(std::make_unique<Receiver>(conn, channel, handler));
      }
      // LISTEN is issued lazily by libpqxx; force it before declaring ourselves connected.
      conn.get_notifs();
      connecting.reset();
      // Listening now: whatever changed before is re-read, then readiness says so.
      for (const auto& [channel, handler] : handlers_) handler("");
      connected_ = true;
      health_.Set("listener", true);
      backoff = std::chrono::milliseconds(100);
      if (ever_connected) {
        // Events committed while we were away were never delivered: catch everyone up.
        log_.Info("listener reconnected; resyncing sessions");
        for (auto& s : AllSubscribers()) s->Resync();
        // Notifications sent while we were away will never come: forget all but the
        // events still being written.
        std::lock_guard lock(mu_);
        std::erase_if(own_, [](const auto& entry) { return entry.second != Own::kPending; });
      }
      ever_connected = true;
      auto last_ping = std::chrono::steady_clock::now();
      while (!stopping_) {
        heartbeat_->Beat();
        conn.await_notification(0, 200'000);
        // A server that vanished without closing the socket is only noticed by a query. The
        // query is LISTEN again (a no-op), so pg_stat_activity keeps showing this connection
        // as the listener the operations guide looks for (`query LIKE 'LISTEN%'`).
        if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(2)) {
          common::Heartbeat::Outside in_database(heartbeat_);
          pqxx::nontransaction ping(conn);
          ping.exec(std::string("LISTEN ") + kEventsChannel);
          last_ping = std::chrono::steady_clock::now();
        }
      }
    } catch (const std::exception& e) {
      if (connected_) log_.Warn("listener connection lost", {{"error", e.what()}});
      connected_ = false;
      health_.Set("listener", false, "database connection for LISTEN lost; reconnecting");
      for (int i = 0; i < backoff.count() / 50 && !stopping_; ++i) {
        heartbeat_->Beat();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
  }
}

}  // namespace holomush::core
