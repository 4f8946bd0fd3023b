// The libcurl KubeClient: JSON over HTTPS, one pooled easy handle per concurrent caller.
#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "holomush/operator/api.hpp"
#include "holomush/operator/kube_client.hpp"
#include "holomush/operator/metrics.hpp"

namespace holomush::op {

namespace {

using common::ErrorKind;
using common::MakeError;
using nlohmann::json;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

common::Error ErrorFor(long code, const std::string& body, const std::string& what) {
  std::string message = what + ": HTTP " + std::to_string(code);
  try {
    json status = json::parse(body);
    if (status.contains("message")) message += ": " + status["message"].get<std::string>();
  } catch (const json::exception&) {
    if (!body.empty()) message += ": " + body.substr(0, 200);
  }
  ErrorKind kind = ErrorKind::kUnavailable;
  if (code == 404) kind = ErrorKind::kNotFound;
  if (code == 409) kind = ErrorKind::kConflict;
  if (code == 401 || code == 403) kind = ErrorKind::kPermissionDenied;
  if (code == 400 || code == 422) kind = ErrorKind::kInvalid;
  return MakeError(kind, message);
}

struct Response {
  long code = 0;  // 0: transport error
  std::string body;
  std::string error;
  int retry_after = 0;
};

class CurlKubeClient final : public KubeClient {
 public:
  CurlKubeClient(KubeConfig config, OperatorMetrics* metrics)
      : config_(std::move(config)), metrics_(metrics) {
    static CurlGlobal global;
    while (!config_.server.empty() && config_.server.back() == '/') config_.server.pop_back();
  }

  ~CurlKubeClient() override {
    for (CURL* h : pool_) curl_easy_cleanup(h);
  }

  common::Result<json> Get(const ResourceType& type, const std::string& ns,
                           const std::string& name) override {
    Response r = Request("get", "GET", Path(type, ns, name), "", "");
    return ParseOrError(r, "get " + type.resource + " " + ns + "/" + name);
  }

  common::Result<ListResult> List(const ResourceType& type, const std::string& ns,
                                  const std::string& selector) override {
    ListResult out;
    std::string cont;
    do {
      std::string query = "?limit=500";
      if (!selector.empty()) query += "&labelSelector=" + Escape(selector);
      if (!cont.empty()) query += "&continue=" + Escape(cont);
      Response r = Request("list", "GET", Path(type, ns, "") + query, "", "");
      auto parsed = ParseOrError(r, "list " + type.resource);
      if (!parsed.ok()) return parsed.error();
      json& list = parsed.value();
      for (json& item : list["items"]) {
        // Lists omit apiVersion and kind on items; watches carry them. Keep them uniform.
        item["apiVersion"] = type.ApiVersion();
        item["kind"] = type.kind;
        out.items.push_back(std::move(item));
      }
      out.resource_version = list["metadata"].value("resourceVersion", "");
      cont = list["metadata"].value("continue", "");
    } while (!cont.empty());
    return out;
  }

  common::Result<WatchEnd> Watch(const ResourceType& type, const std::string& ns,
                                 const std::string& selector, const std::string& rv,
                                 const std::function<void(const WatchEvent&)>& on_event,
                                 const std::function<bool()>& stop) override {
    // The server ends the watch after timeoutSeconds; a little jitter spreads reconnects.
    const int timeout =
        240 + static_cast<int>(std::hash<std::thread::id>{}(std::this_thread::get_id()) % 60);
    std::string query =
        "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout) +
        "&resourceVersion=" + Escape(rv);
    if (!selector.empty()) query += "&labelSelector=" + Escape(selector);

    WatchState state;
    state.what = "watch " + type.resource;
    state.end.resource_version = rv;
    state.on_event = &on_event;
    state.stop = &stop;
    CURL* h = curl_easy_init();
    state.handle = h;
    std::string url = config_.server + Path(type, ns, "") + query;
    curl_slist* headers = Prepare(h, url, "GET", "", "");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, static_cast<long>(timeout + 30));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CurlKubeClient::WatchWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &CurlKubeClient::WatchProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &state);
    const CURLcode rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    Count("watch", code);
    if (state.end.gone || code == 410) {
      state.end.gone = true;
      return state.end;
    }
    // Refused (403, 429, 5xx, ...): the body is one Status, kept whole by WatchWrite.
    if (code != 200 && code != 0) return ErrorFor(code, state.buffer, state.what);
    if (state.error) return *state.error;
    if (rc != CURLE_OK && rc != CURLE_ABORTED_BY_CALLBACK && rc != CURLE_OPERATION_TIMEDOUT) {
      return MakeError(ErrorKind::kUnavailable, state.what + ": " + curl_easy_strerror(rc));
    }
    return state.end;
  }

  common::Result<json> Apply(const ResourceType& type, const json& object, bool status) override {
    const json& meta = object.at("metadata");
    std::string path = Path(type, meta.value("namespace", ""), meta.at("name").get<std::string>());
    if (status) path += "/status";
    path += std::string("?fieldManager=") + kFieldManager + "&force=true";
    Response r = Request("patch", "PATCH", path, object.dump(), "application/apply-patch+yaml");
    return ParseOrError(r, "apply " + type.kind + " " + meta.at("name").get<std::string>());
  }

  common::Result<json> Create(const ResourceType& type, const std::string& ns,
                              const json& object) override {
    Response r = Request("create", "POST", Path(type, ns, ""), object.dump(), "application/json");
    return ParseOrError(r, "create " + type.kind);
  }

  common::Result<json> Update(const ResourceType& type, const json& object) override {
    const json& meta = object.at("metadata");
    Response r =
        Request("update", "PUT",
                Path(type, meta.value("namespace", ""), meta.at("name").get<std::string>()),
                object.dump(), "application/json");
    return ParseOrError(r, "update " + type.kind);
  }

  common::Status Delete(const ResourceType& type, const std::string& ns,
                        const std::string& name) override {
    Response r =
        Request("delete", "DELETE", Path(type, ns, name),
                R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})",
                "application/json");
    if (r.code == 200 || r.code == 202 || r.code == 404) return common::Ok{};
    if (r.code == 0) return MakeError(ErrorKind::kUnavailable, "delete: " + r.error);
    return ErrorFor(r.code, r.body, "delete " + type.kind + " " + ns + "/" + name);
  }

  common::Result<bool> Serves(const std::string& group_version,
                              const std::string& resource) override {
    Response r = Request("get", "GET", "/apis/" + group_version, "", "");
    if (r.code == 404) return false;
    auto parsed = ParseOrError(r, "discovery " + group_version);
    if (!parsed.ok()) return parsed.error();
    for (const json& res : parsed.value().value("resources", json::array())) {
      if (res.value("name", "") == resource) return true;
    }
    return false;
  }

 private:
  struct WatchState {
    CURL* handle = nullptr;
    std::string what;    // "watch <resource>", for messages
    std::string buffer;  // an incomplete line, or the whole body of a refusal
    WatchEnd end;
    // Why the stream was cut short: a Status in it, a malformed line, a throwing handler.
    std::optional<common::Error> error;
    const std::function<void(const WatchEvent&)>* on_event = nullptr;
    const std::function<bool()>* stop = nullptr;
  };

  // A refusal's Status is small; more than this is not worth keeping.
  static constexpr size_t kMaxErrorBody = 64 * 1024;

  // libcurl is C: nothing may be thrown through it. Every failure here becomes
  // state->error and ends the transfer (return 0).
  static size_t WatchWrite(char* data, size_t size, size_t n, void* user) {
    auto* state = static_cast<WatchState*>(user);
    const size_t bytes = size * n;
    long code = 0;
    curl_easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) {
      // Not a stream of events: one Status, which Watch reads once the transfer ends.
      const size_t room = kMaxErrorBody - std::min(kMaxErrorBody, state->buffer.size());
      state->buffer.append(data, std::min(bytes, room));
      return bytes;
    }
    try {
      state->buffer.append(data, bytes);
      size_t start = 0;
      for (size_t nl; (nl = state->buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (nl == start) continue;
        if (!WatchLine(*state, state->buffer.substr(start, nl - start))) return 0;
      }
      state->buffer.erase(0, start);
    } catch (const std::exception& e) {
      state->error = MakeError(ErrorKind::kInternal, state->what + ": " + e.what());
      return 0;
    } catch (...) {
      state->error = MakeError(ErrorKind::kInternal, state->what + ": unknown exception");
      return 0;
    }
    return bytes;
  }

  // One line of a watch stream; false ends the watch (gone, or an error to back off from).
  static bool WatchLine(WatchState& state, const std::string& line) {
    const json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object()) {
      state.error = MakeError(ErrorKind::kUnavailable, state.what + ": malformed line in stream");
      return false;
    }
    const auto type = event.find("type");
    const auto object = event.find("object");
    if (type == event.end() || !type->is_string() || object == event.end() ||
        !object->is_object()) {
      // Not an event at all: a bare Status (a proxy's, or a server's that answered 200).
      return StatusLine(state, event);
    }
    const std::string kind = type->get<std::string>();
    if (kind == "ERROR") return StatusLine(state, *object);
    const auto meta = object->find("metadata");
    if (meta != object->end() && meta->is_object()) {
      const auto rv = meta->find("resourceVersion");
      if (rv != meta->end() && rv->is_string() && !rv->get_ref<const std::string&>().empty()) {
        state.end.resource_version = rv->get<std::string>();
      }
    }
    ++state.end.events;
    if (kind == "ADDED" || kind == "MODIFIED" || kind == "DELETED") {
      (*state.on_event)(WatchEvent{kind, *object});
    }
    return true;  // BOOKMARK only moves the resourceVersion; unknown types are skipped
  }

  // A Status in the stream: 410 means list again, anything else is an error.
  static bool StatusLine(WatchState& state, const json& status) {
    const auto code_it = status.find("code");
    const long code =
        code_it != status.end() && code_it->is_number_integer() ? code_it->get<long>() : 0;
    const auto reason_it = status.find("reason");
    const std::string reason =
        reason_it != status.end() && reason_it->is_string() ? reason_it->get<std::string>() : "";
    if (code == 410 || reason == "Expired" || reason == "Gone") {
      state.end.gone = true;
      return false;
    }
    state.error = ErrorFor(code, status.dump(), state.what + " (in stream)");
    return false;
  }

  static int WatchProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* state = static_cast<WatchState*>(user);
    return (*state->stop)() ? 1 : 0;
  }

  static size_t Collect(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
  }

  static size_t Header(char* data, size_t size, size_t n, void* user) {
    std::string line(data, size * n);
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower.rfind("retry-after:", 0) == 0) {
      try {
        *static_cast<int*>(user) = std::stoi(line.substr(12));
      } catch (const std::exception&) {
      }
    }
    return size * n;
  }

  static std::string Path(const ResourceType& type, const std::string& ns,
                          const std::string& name) {
    std::string path =
        type.group.empty() ? "/api/" + type.version : "/apis/" + type.group + "/" + type.version;
    if (type.namespaced && !ns.empty()) path += "/namespaces/" + ns;
    path += "/" + type.resource;
    if (!name.empty()) path += "/" + name;
    return path;
  }

  static std::string Escape(const std::string& text) {
    char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
    std::string out = escaped != nullptr ? escaped : "";
    curl_free(escaped);
    return out;
  }

  std::string Token() {
    if (config_.token_file.empty()) return config_.token;
    std::lock_guard<std::mutex> lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    if (token_.empty() || now - token_read_ > std::chrono::minutes(1)) {
      std::ifstream in(config_.token_file);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string token = ss.str();
      while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
      if (!token.empty()) token_ = token;
      token_read_ = now;
    }
    return token_;
  }

  // Sets everything but the body handling; the caller frees the returned headers.
  curl_slist* Prepare(CURL* h, const std::string& url, const std::string& method,
                      const std::string& body, const std::string& content_type) {
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!config_.ca_pem.empty()) {
      curl_blob blob{const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(),
                     CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (config_.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!config_.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(config_.client_cert_pem.data()),
                     config_.client_cert_pem.size(), CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(config_.client_key_pem.data()), config_.client_key_pem.size(),
                    CURL_BLOB_COPY};
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "User-Agent: holomush-operator");
    const std::string token = Token();
    if (!token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    if (!content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (!body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    return headers;
  }

  CURL* Acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (pool_.empty()) return curl_easy_init();
    CURL* h = pool_.back();
    pool_.pop_back();
    return h;
  }

  void Release(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    pool_.push_back(h);
  }

  void Count(const std::string& verb, long code) {
    if (metrics_ != nullptr) metrics_->ApiRequest(verb, code);
  }

  Response Request(const std::string& verb, const std::string& method, const std::string& path,
                   const std::string& body, const std::string& content_type) {
    Response r;
    for (int attempt = 0; attempt < 3; ++attempt) {
      r = Response{};
      CURL* h = Acquire();
      curl_easy_reset(h);
      curl_slist* headers = Prepare(h, config_.server + path, method, body, content_type);
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout.count()));
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &CurlKubeClient::Collect);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
      curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &CurlKubeClient::Header);
      curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.retry_after);
      const CURLcode rc = curl_easy_perform(h);
      if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.code);
      } else {
        r.error = curl_easy_strerror(rc);
      }
      curl_slist_free_all(headers);
      Release(h);
      Count(verb, r.code);
      if (r.code != 429 || !config_.retry_throttled) break;
      // Too many requests: the server says when to come back (bounded, so shutdown stays
      // prompt); then try again.
      std::this_thread::sleep_for(std::chrono::seconds(std::clamp(r.retry_after, 1, 10)));
    }
    return r;
  }

  common::Result<json> ParseOrError(const Response& r, const std::string& what) {
    if (r.code == 0) return MakeError(ErrorKind::kUnavailable, what + ": " + r.error);
    if (r.code < 200 || r.code >= 300) return ErrorFor(r.code, r.body, what);
    try {
      return json::parse(r.body);
    } catch (const json::exception& e) {
      return MakeError(ErrorKind::kInternal, what + ": bad JSON: " + e.what());
    }
  }

  KubeConfig config_;
  OperatorMetrics* metrics_;
  std::mutex mu_;
  std::vector<CURL*> pool_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_{};
};

}  // namespace

std::unique_ptr<KubeClient> MakeCurlKubeClient(KubeConfig config, OperatorMetrics* metrics) {
  return std::make_unique<CurlKubeClient>(std::move(config), metrics);
}

}  // namespace holomush::op
