#include "web_static.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <stdexcept>

namespace holomush::gateway {
namespace {

const WebAsset kAssets[] = {
    {"/index.html", "text/html; charset=utf-8", "<p>hi</p>", "\"i1\"", "i1"},
    {"/app.js", "text/javascript; charset=utf-8", "let a = 1;", "\"a1\"", "a1"},
};

std::string Header(const HttpAnswer& a, const std::string& name) {
  for (const auto& [k, v] : a.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(ServeStaticTest, RootIsTheIndexAndNeverCachedWithoutRevalidation) {
  const HttpAnswer a = ServeStatic("GET", "/", "", kAssets);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.body, "<p>hi</p>");
  EXPECT_EQ(Header(a, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(Header(a, "Cache-Control"), "no-cache");
  EXPECT_EQ(Header(a, "ETag"), "\"i1\"");
  EXPECT_EQ(Header(a, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(Header(a, "X-Frame-Options"), "DENY");
  EXPECT_EQ(Header(a, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(Header(a, "Cross-Origin-Opener-Policy"), "same-origin");
  EXPECT_EQ(Header(a, "Cross-Origin-Resource-Policy"), "same-origin");
  const std::string csp = Header(a, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("connect-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(ServeStatic("GET", "/index.html", "", kAssets).body, "<p>hi</p>");
}

TEST(ServeStaticTest, AVersionedAssetIsCachedForGoodAnOldVersionIsNot) {
  HttpAnswer a = ServeStatic("GET", "/app.js?v=a1", "", kAssets);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(Header(a, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(Header(a, "Content-Type"), "text/javascript; charset=utf-8");
  a = ServeStatic("GET", "/app.js?v=old", "", kAssets);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(Header(a, "Cache-Control"), "no-cache");
}

TEST(ServeStaticTest, MatchingETagAnswers304WithoutBody) {
  HttpAnswer a = ServeStatic("GET", "/app.js", "W/\"zz\", \"a1\"", kAssets);
  EXPECT_EQ(a.status, 304);
  EXPECT_TRUE(a.body.empty());
  EXPECT_EQ(Header(a, "ETag"), "\"a1\"");
  EXPECT_EQ(ServeStatic("GET", "/app.js", "\"other\"", kAssets).status, 200);
}

TEST(ServeStaticTest, HeadGivesHeadersOnly) {
  const HttpAnswer a = ServeStatic("HEAD", "/", "", kAssets);
  EXPECT_EQ(a.status, 200);
  EXPECT_TRUE(a.head);
  EXPECT_EQ(a.body.size(), 9u);  // Content-Length still tells the size
}

TEST(ServeStaticTest, UnknownPathIs404AndOtherMethodsAre405) {
  for (const char* path : {"/nope", "/../etc/passwd", "/index.html/", "//app.js", "/APP.JS"}) {
    const HttpAnswer a = ServeStatic("GET", path, "", kAssets);
    EXPECT_EQ(a.status, 404) << path;
    EXPECT_EQ(Header(a, "Content-Type"), "text/plain; charset=utf-8") << path;
  }
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    const HttpAnswer a = ServeStatic(method, "/", "", kAssets);
    EXPECT_EQ(a.status, 405) << method;
    EXPECT_EQ(Header(a, "Allow"), "GET, HEAD") << method;
  }
}

TEST(ServeStaticTest, TheEmbeddedClientIsCompleteAndVersioned) {
  const auto assets = EmbeddedWebAssets();
  const HttpAnswer index = ServeStatic("GET", "/", "", assets);
  ASSERT_EQ(index.status, 200);
  const std::string html(index.body);
  // Every file the page names is embedded, asked for with its current version, and no
  // script or style is inline (the CSP would refuse it).
  const std::regex ref(R"re((?:src|href)="(/[^"?]+)\?v=([0-9a-f]+)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator();
       ++it) {
    ++refs;
    const std::string target = (*it)[1].str() + "?v=" + (*it)[2].str();
    const HttpAnswer file = ServeStatic("GET", target, "", assets);
    EXPECT_EQ(file.status, 200) << target;
    EXPECT_EQ(Header(file, "Cache-Control"), "public, max-age=31536000, immutable") << target;
  }
  EXPECT_EQ(refs, 3);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_EQ(html.find(" style="), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex(" on[a-z]+=")));  // no onclick= and the like
  EXPECT_EQ(html.find("{{"), std::string::npos);
  EXPECT_EQ(Header(ServeStatic("GET", "/style.css", "", assets), "Content-Type"),
            "text/css; charset=utf-8");
  EXPECT_EQ(Header(ServeStatic("GET", "/favicon.svg", "", assets), "Content-Type"),
            "image/svg+xml");
}

TEST(OriginTest, WithoutAllowListOnlyThePagesOwnOriginMayConnect) {
  const std::vector<std::string> none;
  EXPECT_TRUE(OriginAllowed("", "mush.example.com", none));  // not a browser
  EXPECT_TRUE(OriginAllowed("http://127.0.0.1:8080", "127.0.0.1:8080", none));
  EXPECT_TRUE(OriginAllowed("https://Mush.Example.com", "mush.example.com", none));
  EXPECT_TRUE(OriginAllowed("https://mush.example.com", "mush.example.com:443", none));
  EXPECT_TRUE(OriginAllowed("http://mush.example.com:80", "mush.example.com", none));
  EXPECT_FALSE(OriginAllowed("https://evil.example", "mush.example.com", none));
  EXPECT_FALSE(OriginAllowed("http://127.0.0.1:9999", "127.0.0.1:8080", none));
  EXPECT_FALSE(OriginAllowed("https://mush.example.com", "mush.example.com:8443", none));
  EXPECT_FALSE(OriginAllowed("null", "mush.example.com", none));
  EXPECT_FALSE(OriginAllowed("file://", "mush.example.com", none));
  EXPECT_FALSE(OriginAllowed("http://mush.example.com", "", none));
}

TEST(OriginTest, AnAllowListReplacesTheDefault) {
  const auto allowed = ParseAllowedOrigins(" https://Mush.Example.com/ , http://localhost:8080");
  ASSERT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed[0], "https://mush.example.com");
  EXPECT_TRUE(OriginAllowed("https://mush.example.com", "10.0.0.5:8080", allowed));
  EXPECT_TRUE(OriginAllowed("https://mush.example.com:443", "10.0.0.5:8080", allowed));
  EXPECT_TRUE(OriginAllowed("http://localhost:8080", "whatever", allowed));
  EXPECT_FALSE(OriginAllowed("http://mush.example.com", "mush.example.com", allowed));
  EXPECT_FALSE(OriginAllowed("https://evil.example", "evil.example", allowed));
  EXPECT_TRUE(OriginAllowed("", "anything", allowed));
  EXPECT_TRUE(ParseAllowedOrigins("").empty());
}

TEST(OriginTest, ABadAllowListEntryIsNamed) {
  for (const char* bad : {"mush.example.com", "ftp://x", "https://", "https://a b"}) {
    try {
      ParseAllowedOrigins(std::string("https://ok.example,") + bad);
      ADD_FAILURE() << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace holomush::gateway
