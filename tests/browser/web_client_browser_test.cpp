// The web client in a real browser: real PostgreSQL, core and two gateways, two headless
// Chromium players (W3C WebDriver through chromedriver) and one telnet player in one room.
// Screenshots go to build/<preset>/tests/browser/artifacts/.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <pqxx/pqxx>
#include <regex>

#include "../system/gateway_harness.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "webdriver.hpp"

namespace holomush::testing {
namespace {

using namespace std::chrono_literals;

// A JavaScript string literal for `text` (JSON's quoting is valid JavaScript).
std::string Js(const std::string& text) { return Json(text).dump(); }

// How many times `needle` occurs in `haystack`.
int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// A player in a browser tab, seen through the page's own elements.
class WebPlayer {
 public:
  WebPlayer(const ChromeDriver& driver, std::string name, std::string url)
      : browser_(driver, 1280, 900), name_(std::move(name)), url_(std::move(url)) {}

  Browser& browser() { return browser_; }

  std::string Output() {
    return browser_.Run("return document.getElementById('output').textContent;");
  }
  bool Sees(const std::string& text, std::chrono::milliseconds timeout = 20s) {
    return browser_.WaitFor(
        "document.getElementById('output').textContent.includes(" + Js(text) + ")", timeout);
  }
  bool InState(const std::string& state, std::chrono::milliseconds timeout = 20s) {
    return browser_.WaitFor("document.getElementById('status').dataset.state === " + Js(state),
                            timeout);
  }
  // Types a line into the command input and presses Enter, as a player does.
  void Send(const std::string& line) { browser_.Type(browser_.Find("#command"), line + "\uE007"); }

  // Opens the page and creates the account through the login form.
  // `screenshot`: where to save the login page first (empty: nowhere).
  void CreateAccount(const std::string& screenshot = "") {
    browser_.Navigate(url_);
    ASSERT_TRUE(InState("login")) << browser_.Run("return document.body.innerText;");
    EXPECT_EQ(browser_.Run("return document.activeElement.id;"), "username");
    if (!screenshot.empty()) browser_.Screenshot(screenshot);
    browser_.Type(browser_.Find("#username"), name_);
    browser_.Type(browser_.Find("#password"), Password());
    browser_.Click(browser_.Find("#create"));
    ASSERT_TRUE(InState("playing")) << Output();
  }
  std::string Password() const { return "pw-" + name_ + "-Sekr1t"; }

 private:
  Browser browser_;
  std::string name_;
  std::string url_;
};

class WebClientBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium") &&
                std::filesystem::exists("/usr/bin/chromedriver"))
        << "needs Debian's chromium and chromium-driver (scripts/setup installs them)";
    std::filesystem::create_directories(kArtifacts);
    url_ = FreshDatabase("web");
    core_ = std::make_unique<CoreProcess>(url_);
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
    // Gateway A serves the browsers and is restarted under them; gateway B serves the
    // telnet player, who keeps talking while A is down.
    web_port_ = FreePort();
    web_gateway_ = std::make_unique<GatewayProcess>(core_->address());
    web_gateway_->FixWebPort(web_port_);
    ASSERT_TRUE(web_gateway_->Start()) << web_gateway_->process().Output();
    telnet_gateway_ = std::make_unique<GatewayProcess>(core_->address());
    ASSERT_TRUE(telnet_gateway_->Start()) << telnet_gateway_->process().Output();
    ASSERT_TRUE(web_gateway_->WaitReadiness(200));
    ASSERT_TRUE(telnet_gateway_->WaitReadiness(200));
    ASSERT_TRUE(driver_.Start()) << driver_.error();
  }

  std::string PageUrl() const { return "http://127.0.0.1:" + std::to_string(web_port_) + "/"; }

  // Console entries that are errors, except the refused WebSocket attempts we caused by
  // stopping the gateway (Chromium reports each one).
  std::vector<std::string> ConsoleErrors(WebPlayer& player) {
    std::vector<std::string> out;
    const std::regex expected("WebSocket connection to 'ws://127\\.0\\.0\\.1:" +
                              std::to_string(web_port_) + "/ws' failed");
    for (const auto& entry : player.browser().TakeLog()) {
      const std::string level = entry.value("level", "");
      const std::string message = entry.value("message", "");
      if (level != "SEVERE") continue;
      if (outage_ && std::regex_search(message, expected)) continue;
      out.push_back(message);
    }
    return out;
  }

  static inline const std::string kArtifacts = HOLOMUSH_BROWSER_ARTIFACTS;
  std::string url_;
  int web_port_ = 0;
  bool outage_ = false;
  std::unique_ptr<CoreProcess> core_;
  std::unique_ptr<GatewayProcess> web_gateway_;
  std::unique_ptr<GatewayProcess> telnet_gateway_;
  ChromeDriver driver_;
};

TEST_F(WebClientBrowserTest, TwoBrowsersAndATelnetPlayerShareARoomAndSurviveAGatewayRestart) {
  // The telnet player builds: an admin, made the only way admins are made.
  std::string made;
  ASSERT_EQ(AdminCreate(url_, {"tess"}, "pw-tess", &made), 0) << made;
  TelnetPlayer tess(telnet_gateway_->telnet_port());
  ASSERT_TRUE(tess.Enter("connect", "tess", "pw-tess")) << tess.Pending();
  tess.Send("dig north to \"The Library\" return south");
  ASSERT_TRUE(tess.Expect("Dug \"The Library\" through north. Return exit: south.\r\n"));

  WebPlayer ana(driver_, "ana", PageUrl());
  WebPlayer bob(driver_, "bob", PageUrl());
  ASSERT_NO_FATAL_FAILURE(ana.CreateAccount(kArtifacts + "/login.png"));
  ASSERT_NO_FATAL_FAILURE(bob.CreateAccount());
  // The password went to the game and nowhere else: not into the page, not into the form.
  for (WebPlayer* p : {&ana, &bob}) {
    EXPECT_EQ(p->browser().Run("return document.getElementById('password').value;"), "");
    EXPECT_EQ(p->browser().Run("return document.body.innerText.includes('Sekr1t');"), false);
    EXPECT_EQ(p->browser().Run("return document.activeElement.id;"), "command");
  }
  ASSERT_TRUE(ana.Sees("Bob has connected."));
  // What a screen reader is told: the output is a log, the connection line a status, both
  // read politely as they change; the login error is an alert.
  EXPECT_EQ(ana.browser().Run("const o = document.getElementById('output');"
                              "return [o.getAttribute('role'), o.getAttribute('aria-live')];"),
            Json::array({"log", "polite"}));
  EXPECT_EQ(ana.browser().Run("const s = document.getElementById('status');"
                              "return [s.getAttribute('role'), s.getAttribute('aria-live')];"),
            Json::array({"status", "polite"}));
  EXPECT_EQ(
      ana.browser().Run("return document.getElementById('login-error').getAttribute('role');"),
      "alert");
  for (ChildProcess* log :
       {&web_gateway_->process(), &telnet_gateway_->process(), &core_->process()}) {
    EXPECT_EQ(log->Output().find("Sekr1t"), std::string::npos);
  }

  // say, pose, page: the same lines as on telnet.
  ana.Send("say Hello from the web");
  EXPECT_TRUE(ana.Sees("You say, \"Hello from the web\""));
  EXPECT_TRUE(bob.Sees("Ana says, \"Hello from the web\""));
  EXPECT_TRUE(tess.Expect("Ana says, \"Hello from the web\"\r\n"));
  bob.Send(":waves to everyone.");
  EXPECT_TRUE(ana.Sees("Bob waves to everyone."));
  EXPECT_TRUE(tess.Expect("Bob waves to everyone.\r\n"));
  tess.Send("say Hi, browsers");
  EXPECT_TRUE(ana.Sees("Tess says, \"Hi, browsers\""));
  EXPECT_TRUE(bob.Sees("Tess says, \"Hi, browsers\""));
  tess.Send("page ana=Psst from telnet");
  EXPECT_TRUE(ana.Sees("Tess pages: Psst from telnet"));
  ana.Send("page bob=Psst from Ana");
  EXPECT_TRUE(ana.Sees("You page Bob: Psst from Ana"));
  EXPECT_TRUE(bob.Sees("Ana pages: Psst from Ana"));

  // Input history with the arrow keys.
  const std::string command = ana.browser().Find("#command");
  auto value = [&] {
    return ana.browser().Run("return document.getElementById('command').value;");
  };
  ana.browser().Type(command, "\uE013");
  EXPECT_EQ(value(), "page bob=Psst from Ana");
  ana.browser().Type(command, "\uE013");
  EXPECT_EQ(value(), "say Hello from the web");
  ana.browser().Type(command, "\uE015");
  EXPECT_EQ(value(), "page bob=Psst from Ana");
  ana.browser().Type(command, "\uE015");
  EXPECT_EQ(value(), "");

  // Movement through a misspelt exit, seen from the room left behind.
  ana.Send("nroth");
  EXPECT_TRUE(ana.Sees("The Library"));
  EXPECT_TRUE(bob.Sees("Ana leaves north."));
  EXPECT_TRUE(tess.Expect("Ana leaves north.\r\n"));
  ana.Send("sotuh");
  EXPECT_TRUE(bob.Sees("Ana has arrived."));
  EXPECT_TRUE(tess.Expect("Ana has arrived.\r\n"));

  // Hostile text is shown as text: no element is made from it, no script runs, and terminal
  // escapes (which only the database can hold) are dropped.
  const std::string script_line = "<script>window.__pwned = 1</script>";
  const std::string img_line = "<img src=x onerror=\"window.__pwned = 2\">";
  tess.Send("say " + script_line);
  tess.Send("say " + img_line);
  {
    pqxx::connection conn(url_);
    pqxx::work txn(conn);
    txn.exec(
        "UPDATE locations SET description = E'\\x1b[1;31mA red glow\\x1b[0m <b>hums</b>.' "
        "WHERE name = 'The Nexus'");
    txn.commit();
  }
  bob.Send("look");
  for (WebPlayer* p : {&ana, &bob}) {
    EXPECT_TRUE(p->Sees("Tess says, \"" + script_line + "\""));
    EXPECT_TRUE(p->Sees("Tess says, \"" + img_line + "\""));
    EXPECT_EQ(p->browser().Run(
                  "return document.querySelectorAll('#output script, #output img, #output b')"
                  ".length;"),
              0);
    EXPECT_EQ(p->browser().Run("return typeof window.__pwned;"), "undefined");
  }
  EXPECT_TRUE(bob.Sees("A red glow <b>hums</b>."));
  EXPECT_EQ(Count(bob.Output(), "\x1b"), 0);
  EXPECT_EQ(Count(bob.Output(), "[1;31m"), 0);

  // Screenshots of the logged-in page, desktop and phone widths.
  ana.browser().Screenshot(kArtifacts + "/desktop.png");
  ana.browser().Resize(390, 844);
  EXPECT_TRUE(ana.browser().WaitFor("window.innerWidth <= 500", 5s));
  EXPECT_EQ(ana.browser().Run("return document.documentElement.scrollWidth <= window.innerWidth;"),
            true);  // nothing sticks out sideways on a phone
  ana.browser().Screenshot(kArtifacts + "/phone.png");
  // The dark theme follows the system's preference.
  const std::string background = "getComputedStyle(document.body).backgroundColor";
  EXPECT_EQ(ana.browser().Run("return " + background + ";"), "rgb(247, 247, 244)");
  ana.browser().EmulateColorScheme("dark");
  EXPECT_TRUE(ana.browser().WaitFor(background + " === 'rgb(20, 22, 26)'", 5s));
  ana.browser().Screenshot(kArtifacts + "/phone-dark.png");
  ana.browser().EmulateColorScheme("");
  ana.browser().Resize(1280, 900);
  for (WebPlayer* p : {&ana, &bob}) EXPECT_EQ(ConsoleErrors(*p), std::vector<std::string>{});

  // The browsers' gateway restarts. While it is down the telnet player (other gateway)
  // talks; both browsers show "Reconnecting…", come back by themselves and get every line
  // exactly once.
  outage_ = true;
  web_gateway_->Signal(SIGTERM);
  ASSERT_EQ(web_gateway_->Wait(20s), 0) << web_gateway_->process().Output();
  EXPECT_TRUE(ana.InState("reconnecting"));
  EXPECT_TRUE(bob.InState("reconnecting"));
  EXPECT_EQ(ana.browser().Run("return document.getElementById('status').textContent;"),
            "Reconnecting…");
  tess.Send("say Said during the outage, one");
  tess.Send("say Said during the outage, two");
  ASSERT_TRUE(tess.Expect("You say, \"Said during the outage, two\"\r\n"));
  ASSERT_TRUE(web_gateway_->Start()) << web_gateway_->process().Output();
  for (WebPlayer* p : {&ana, &bob}) {
    EXPECT_TRUE(p->InState("playing", 30s));
    EXPECT_TRUE(p->Sees("Said during the outage, two", 30s));
  }
  tess.Send("say Said right after");
  ana.Send("say Ana is back");
  EXPECT_TRUE(tess.Expect("Ana says, \"Ana is back\"\r\n"));
  for (WebPlayer* p : {&ana, &bob}) {
    EXPECT_TRUE(p->Sees("Tess says, \"Said right after\""));
    EXPECT_TRUE(p->Sees("Ana is back"));
    const std::string out = p->Output();
    for (const std::string line :
         {"Tess says, \"Said during the outage, one\"",
          "Tess says, \"Said during the outage, two\"", "Tess says, \"Said right after\"",
          "Tess says, \"Hi, browsers\"", "Bob waves to everyone."}) {
      EXPECT_EQ(Count(out, line), 1) << line << "\n" << out;
    }
    EXPECT_LT(out.find("outage, one"), out.find("outage, two"));
    EXPECT_LT(out.find("outage, two"), out.find("Said right after"));
    // The greeting is not shown again on a resume.
    EXPECT_EQ(Count(out, "Welcome to HoloMUSH!"), 1) << out;
  }
  EXPECT_TRUE(bob.Sees("Ana says, \"Ana is back\""));

  // A reload keeps the session (the tab's sessionStorage): no login form, and only what is
  // new arrives.
  bob.browser().Navigate(PageUrl());
  EXPECT_TRUE(bob.InState("playing"));
  EXPECT_EQ(bob.browser().Run("return document.getElementById('login').hidden;"), true);
  tess.Send("say After the reload");
  EXPECT_TRUE(bob.Sees("Tess says, \"After the reload\""));
  EXPECT_EQ(Count(bob.Output(), "Ana is back"), 0);  // shown before the reload, not replayed
  for (WebPlayer* p : {&ana, &bob}) EXPECT_EQ(ConsoleErrors(*p), std::vector<std::string>{});
}

// Keyboard only: Tab goes from the command line to Send and Shift+Tab back past it to the
// output log, each showing the focus ring. The page keeps its last 2,000 lines and recalls
// its last 100 commands.
TEST_F(WebClientBrowserTest, APageIsUsedByKeyboardAndKeepsItsBounds) {
  WebPlayer cleo(driver_, "cleo", PageUrl());
  ASSERT_NO_FATAL_FAILURE(cleo.CreateAccount());
  Browser& page = cleo.browser();
  const std::string focused =
      "const e = document.activeElement; const s = getComputedStyle(e);"
      "return [e.id || e.tagName + ' ' + e.textContent, e.matches(':focus-visible'),"
      " s.outlineStyle, s.outlineWidth].join('|');";
  EXPECT_EQ(page.Run("return document.activeElement.id;"), "command");
  page.Type(page.Find("#command"), "\uE004");  // Tab
  EXPECT_EQ(page.Run(focused), "BUTTON Send|true|solid|3px");
  page.Type(page.Find("#command-form button"), "\uE008\uE004\uE004\uE000");  // Shift+Tab twice
  EXPECT_EQ(page.Run(focused), "output|true|solid|3px");

  // 2,001 commands typed as fast as keys go: each is echoed into the page at once (the game
  // answers them at its own pace), so the output passes 2,000 lines on the echoes alone.
  std::string keys;
  for (int i = 1; i <= 2001; ++i) keys += "c" + std::to_string(i) + "\uE007";
  const std::string command = page.Find("#command");
  page.Type(command, keys);
  const std::string lines =
      "Array.from(document.getElementById('output').children, c => c.textContent)";
  EXPECT_TRUE(page.WaitFor(lines + ".includes('> c2001')"));
  EXPECT_EQ(page.Run("return document.getElementById('output').childElementCount;"), 2000);
  EXPECT_EQ(page.Run("return " + lines + ".includes('> c1');"), false);
  // Up arrow 101 times: the oldest command recalled is the 100th from the end, and it stays.
  std::string up;
  for (int i = 0; i < 101; ++i) up += "\uE013";
  page.Type(command, up);
  EXPECT_EQ(page.Run("return document.getElementById('command').value;"), "c1902");
}

}  // namespace
}  // namespace holomush::testing
