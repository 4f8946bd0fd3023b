// A small W3C WebDriver client (libcurl + JSON) for the browser tests: one chromedriver
// process, and one headless Chromium session per simulated player.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace holomush::testing {

using Json = nlohmann::json;

// `chromedriver` on a free loopback port. Owned by the test; sessions must end before it.
class ChromeDriver {
 public:
  ChromeDriver();
  // Starts it and waits until /status says ready. False (see error()) when it cannot.
  bool Start();
  const std::string& url() const { return url_; }
  const std::string& error() const { return error_; }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string url_;
  std::string error_;
};

// One W3C session: a headless Chromium window. Every call throws std::runtime_error with the
// driver's message when WebDriver answers an error, so a test fails with the reason.
class Browser {
 public:
  Browser(const ChromeDriver& driver, int width, int height);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  void Navigate(const std::string& url);
  void Resize(int width, int height);
  // The W3C element reference of the first match of `css`.
  std::string Find(const std::string& css);
  // Types into an element (WebDriver keys: "\uE007" is Enter, "\uE013"/"\uE015" up/down).
  void Type(const std::string& element, const std::string& text);
  void Click(const std::string& element);
  // Runs `script` (a function body; `arguments` holds `args`) in the page; its return value.
  Json Run(const std::string& script, const Json& args = Json::array());
  // Polls `expression` (JavaScript) until it is truthy or `timeout` passes.
  bool WaitFor(const std::string& expression,
               std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Makes the page see `prefers-color-scheme: <scheme>` ("dark", "light"; "" for the
  // system's), through Chromium's DevTools protocol.
  void EmulateColorScheme(const std::string& scheme);
  // Saves a PNG of the viewport.
  void Screenshot(const std::string& path);
  // Browser console entries since the last call (Chromium's goog:loggingPrefs log).
  std::vector<Json> TakeLog();

 private:
  Json Call(const std::string& method, const std::string& path, const Json& body = nullptr);
  std::string base_;
  std::string session_;
};

}  // namespace holomush::testing
