#include "holomush/operator/informer.hpp"

#include <algorithm>
#include <charconv>
#include <random>

namespace holomush::op {

using nlohmann::json;

namespace {
std::string Key(const json& object) {
  auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) return "/";
  return it->value("namespace", "") + "/" + it->value("name", "");
}

std::optional<uint64_t> ParseVersion(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<uint64_t> ResourceVersion(const json& object) {
  auto it = object.find("metadata");
  if (it == object.end() || !it->is_object()) return std::nullopt;
  auto rv = it->find("resourceVersion");
  if (rv == it->end() || !rv->is_string()) return std::nullopt;
  return ParseVersion(rv->get<std::string>());
}
}  // namespace

Informer::Informer(KubeClient& client, ResourceType type, std::string ns,
                   std::string label_selector, common::Logger log)
    : client_(client),
      type_(std::move(type)),
      ns_(std::move(ns)),
      selector_(std::move(label_selector)),
      log_(std::move(log)) {}

Informer::~Informer() { Stop(); }

void Informer::OnChange(Handler handler) { handlers_.push_back(std::move(handler)); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Informer::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

void Informer::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
  if (heartbeat_ != nullptr) heartbeat_->Retire();
}

bool Informer::WaitStop(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, delay, [this] { return stop_.load(); });
}

std::optional<json> Informer::Get(const std::string& ns, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_.find(ns + "/" + name);
  if (it == store_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> Informer::ListByLabel(const std::string& ns, const std::string& key,
                                        const std::string& value) const {
  std::vector<json> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = store_.lower_bound(ns + "/"); it != store_.end(); ++it) {
    if (it->first.compare(0, ns.size() + 1, ns + "/") != 0) break;
    const auto meta = it->second.find("metadata");
    if (meta == it->second.end() || !meta->is_object()) continue;
    const json labels = meta->value("labels", json::object());
    if (labels.value(key, "") == value) out.push_back(it->second);
  }
  return out;
}

std::vector<json> Informer::All() const {
  std::vector<json> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, object] : store_) out.push_back(object);
  return out;
}

void Informer::Upsert(const json& object) {
  json copy = object;
  if (copy.contains("metadata")) copy["metadata"].erase("managedFields");
  // resourceVersions are opaque, but etcd's are increasing integers: one we cannot read as
  // such is not stored (the watch event brings the object soon).
  const auto incoming = ResourceVersion(copy);
  if (!incoming) return;
  const std::string key = Key(copy);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = store_.find(key);
  if (it != store_.end()) {
    const auto stored = ResourceVersion(it->second);
    if (!stored || *incoming <= *stored) return;  // the watch already delivered newer
  } else if (*incoming <= seen_version_) {
    return;  // deleted after this write, and the watch has said so: do not bring it back
  }
  store_[key] = std::move(copy);
}

size_t Informer::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.size();
}

void Informer::Put(const json& object, bool deleted) {
  json copy = object;
  // managedFields are large and we never read them: keep the cache small.
  if (copy.contains("metadata")) copy["metadata"].erase("managedFields");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto version = ResourceVersion(copy)) seen_version_ = std::max(seen_version_, *version);
    if (deleted) {
      store_.erase(Key(copy));
    } else {
      store_[Key(copy)] = copy;
    }
  }
  for (const auto& handler : handlers_) handler(copy);
}

bool Informer::Relist(std::string& resource_version) {
  auto list = [&] {
    common::Heartbeat::Outside waiting(heartbeat_);
    return client_.List(type_, ns_, selector_);
  }();
  if (!list.ok()) {
    log_.Warn("list failed", {{"resource", type_.resource}, {"error", list.error().message}});
    return false;
  }
  std::map<std::string, json> fresh;
  for (json& item : list->items) {
    item["metadata"].erase("managedFields");
    std::string key = Key(item);  // before the move: json::operator= takes its argument by value
    fresh[key] = std::move(item);
  }
  std::vector<json> changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, object] : store_) {
      if (!fresh.count(key)) changed.push_back(object);  // deleted while we were away
    }
    for (const auto& [key, object] : fresh) {
      auto it = store_.find(key);
      if (it == store_.end() || it->second != object) changed.push_back(object);
    }
    store_ = std::move(fresh);
    if (auto version = ParseVersion(list->resource_version)) {
      seen_version_ = std::max(seen_version_, *version);
    }
  }
  for (const json& object : changed) {
    for (const auto& handler : handlers_) handler(object);
  }
  resource_version = list->resource_version;
  synced_ = true;
  return true;
}

void Informer::Run() {
  std::mt19937 rng(std::random_device{}());
  std::chrono::milliseconds backoff(200);
  constexpr std::chrono::milliseconds kMaxBackoff(30000);
  auto Jittered = [&](std::chrono::milliseconds base) {
    std::uniform_int_distribution<long> dist(base.count() / 2, base.count());
    return std::chrono::milliseconds(dist(rng));
  };
  // Waits the jittered backoff and doubles it; true when asked to stop meanwhile.
  auto BackOff = [&] {
    common::Heartbeat::Outside waiting(heartbeat_);
    if (WaitStop(Jittered(backoff))) return true;
    backoff = std::min(backoff * 2, kMaxBackoff);
    return false;
  };
  std::string rv;
  bool need_list = true;
  auto beat = [this] {
    if (heartbeat_ != nullptr) heartbeat_->Beat();
  };
  while (!stop_) {
    beat();
    // Nothing may escape this thread (std::terminate would take every game's operator
    // down): whatever throws is logged and retried after the backoff.
    try {
      if (need_list) {
        if (!Relist(rv)) {
          if (BackOff()) return;
          continue;
        }
        need_list = false;
      }
      auto end = client_.Watch(
          type_, ns_, selector_, rv,
          [this](const WatchEvent& ev) { Put(ev.object, ev.type == "DELETED"); },
          [&] {
            beat();  // curl asks about once a second, events or not
            return stop_.load();
          });
      if (stop_) return;
      if (!end.ok()) {
        log_.Warn("watch failed", {{"resource", type_.resource},
                                   {"error", end.error().message},
                                   {"retry_in_ms", backoff.count()}});
        // A 404 means the kind itself is gone (a CRD removed); list again when it returns.
        need_list = end.error().kind == common::ErrorKind::kNotFound;
        if (BackOff()) return;
        continue;
      }
      if (end->gone) {
        log_.Info("watch expired, listing again", {{"resource", type_.resource}});
        need_list = true;
        continue;
      }
      rv = end->resource_version;
      if (end->events > 0) {
        backoff = std::chrono::milliseconds(200);
      } else if (BackOff()) {
        return;  // ended at once with nothing in it: do not spin on a server that does that
      }
    } catch (const std::exception& e) {
      log_.Error("informer failed", {{"resource", type_.resource}, {"error", e.what()}});
      need_list = true;
      if (BackOff()) return;
    } catch (...) {
      log_.Error("informer failed", {{"resource", type_.resource}, {"error", "unknown"}});
      need_list = true;
      if (BackOff()) return;
    }
  }
}

}  // namespace holomush::op
