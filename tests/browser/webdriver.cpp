#include "webdriver.hpp"

#include <curl/curl.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/net.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

// The W3C key for an element reference in JSON.
constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
  std::string error;
};

Reply Request(const std::string& method, const std::string& url, const std::string& body,
              std::chrono::seconds timeout) {
  Reply reply;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return {.error = "curl_easy_init failed"};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    reply.error = curl_easy_strerror(code);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

std::string DecodeBase64(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (const char c : in) {
    const int v = value(c);
    if (v < 0) continue;  // padding and line breaks
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

}  // namespace

ChromeDriver::ChromeDriver() = default;

bool ChromeDriver::Start() {
  const int port = FreePort();
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
      "/usr/bin/chromedriver", "--port=" + std::to_string(port), "--allowed-ips=127.0.0.1"});
  url_ = "http://127.0.0.1:" + std::to_string(port);
  const bool ready = WaitUntil(
      [&] {
        const Reply r = Request("GET", url_ + "/status", "", std::chrono::seconds(2));
        if (r.status != 200) return false;
        const Json j = Json::parse(r.body, nullptr, false);
        return !j.is_discarded() && j["value"].value("ready", false);
      },
      std::chrono::seconds(30));
  if (!ready) error_ = "chromedriver did not become ready: " + process_->Output();
  return ready;
}

Browser::Browser(const ChromeDriver& driver, int width, int height) : base_(driver.url()) {
  const Json capabilities = {
      {"capabilities",
       {{"alwaysMatch",
         {{"browserName", "chrome"},
          {"goog:loggingPrefs", {{"browser", "ALL"}}},
          {"goog:chromeOptions",
           {{"binary", "/usr/bin/chromium"},
            {"args",
             {"--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--disable-extensions", "--disable-background-networking",
              "--window-size=" + std::to_string(width) + "," + std::to_string(height)}}}}}}}}};
  const Json value = Call("POST", "/session", capabilities);
  session_ = value.at("sessionId").get<std::string>();
}

Browser::~Browser() {
  if (!session_.empty()) {
    Request("DELETE", base_ + "/session/" + session_, "", std::chrono::seconds(30));
  }
}

Json Browser::Call(const std::string& method, const std::string& path, const Json& body) {
  const std::string url = base_ + (path == "/session" ? path : "/session/" + session_ + path);
  const Reply r =
      Request(method, url, body.is_null() ? "{}" : body.dump(), std::chrono::seconds(90));
  if (!r.error.empty()) throw std::runtime_error("WebDriver " + path + ": " + r.error);
  const Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("WebDriver " + path + ": not JSON: " + r.body);
  if (r.status != 200) {
    throw std::runtime_error("WebDriver " + path + " answered " + std::to_string(r.status) + ": " +
                             j["value"].value("message", r.body));
  }
  return j.contains("value") ? j["value"] : Json();
}

void Browser::Navigate(const std::string& url) { Call("POST", "/url", {{"url", url}}); }

void Browser::Resize(int width, int height) {
  Call("POST", "/window/rect", {{"width", width}, {"height", height}});
}

std::string Browser::Find(const std::string& css) {
  const Json e = Call("POST", "/element", {{"using", "css selector"}, {"value", css}});
  if (!e.is_object() || !e.contains(kElementKey)) {
    throw std::runtime_error("WebDriver found no element for " + css + ": " + e.dump());
  }
  return e[kElementKey].get<std::string>();
}

void Browser::Type(const std::string& element, const std::string& text) {
  Call("POST", "/element/" + element + "/value", {{"text", text}});
}

void Browser::Click(const std::string& element) {
  Call("POST", "/element/" + element + "/click", Json::object());
}

Json Browser::Run(const std::string& script, const Json& args) {
  return Call("POST", "/execute/sync", {{"script", script}, {"args", args}});
}

bool Browser::WaitFor(const std::string& expression, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const Json v = Run("return !!(" + expression + ");");
    if (v.is_boolean() && v.get<bool>()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Each round trip to the browser takes a few milliseconds; this only keeps the
    // poll from spinning.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void Browser::EmulateColorScheme(const std::string& scheme) {
  const Json feature = {{"name", "prefers-color-scheme"}, {"value", scheme}};
  Call("POST", "/goog/cdp/execute",
       {{"cmd", "Emulation.setEmulatedMedia"}, {"params", {{"features", Json::array({feature})}}}});
}

void Browser::Screenshot(const std::string& path) {
  const Json png = Call("GET", "/screenshot");
  std::ofstream out(path, std::ios::binary);
  out << DecodeBase64(png.get<std::string>());
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::vector<Json> Browser::TakeLog() {
  const Json entries = Call("POST", "/se/log", {{"type", "browser"}});
  std::vector<Json> out;
  if (entries.is_array()) out.assign(entries.begin(), entries.end());
  return out;
}

}  // namespace holomush::testing
