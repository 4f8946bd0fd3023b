#include "web_static.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

#include "text.hpp"

namespace holomush::gateway {
namespace {

struct Origin {
  std::string scheme;     // "http" or "https"
  std::string authority;  // host[:port], lower case, default port removed
};

// Drops ":80" (http) or ":443" (https) so "example.com" and "example.com:443" compare equal.
std::string FoldDefaultPort(std::string authority, std::string_view scheme) {
  const std::string_view port = scheme == "https" ? ":443" : ":80";
  if (authority.size() > port.size() && authority.ends_with(port) &&
      authority[authority.size() - port.size() - 1] != ':') {
    authority.resize(authority.size() - port.size());
  }
  return authority;
}

bool ValidAuthority(std::string_view a) {
  if (a.empty()) return false;
  return std::all_of(a.begin(), a.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
           c == '_';
  });
}

std::optional<Origin> ParseOrigin(std::string_view text) {
  text = common::TrimSpace(text);
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  const auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  Origin o{.scheme = Lower(text.substr(0, sep)), .authority = Lower(text.substr(sep + 3))};
  if (o.scheme != "http" && o.scheme != "https") return std::nullopt;
  if (!ValidAuthority(o.authority)) return std::nullopt;
  o.authority = FoldDefaultPort(o.authority, o.scheme);
  return o;
}

bool ETagMatches(std::string_view header, std::string_view etag) {
  // A list of tags, possibly weak (W/"..."), or "*".
  size_t pos = 0;
  while (pos < header.size()) {
    auto comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = common::TrimSpace(header.substr(pos, comma - pos));
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = comma + 1;
  }
  return false;
}

constexpr std::string_view kNotFoundBody =
    "HoloMUSH: no such page. The game is at /, its WebSocket at /ws.\n";
constexpr std::string_view kMethodBody = "HoloMUSH: only GET and HEAD are served here.\n";

HttpAnswer Plain(int status, std::string reason, std::string_view body) {
  HttpAnswer a{.status = status, .reason = std::move(reason), .headers = SecurityHeaders()};
  a.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  a.headers.emplace_back("Cache-Control", "no-store");
  a.body = body;
  return a;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  // connect-src 'self' covers ws: and wss: to this same host (CSP Level 3).
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Cross-Origin-Resource-Policy", "same-origin"},
  };
  return headers;
}

HttpAnswer ServeStatic(std::string_view method, std::string_view target,
                       std::string_view if_none_match, std::span<const WebAsset> assets) {
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    HttpAnswer a = Plain(405, "Method Not Allowed", kMethodBody);
    a.headers.emplace_back("Allow", "GET, HEAD");
    return a;
  }
  std::string_view path = target;
  std::string_view query;
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  if (path == "/") path = "/index.html";
  const auto it = std::find_if(assets.begin(), assets.end(),
                               [&](const WebAsset& asset) { return asset.path == path; });
  if (it == assets.end()) {
    HttpAnswer a = Plain(404, "Not Found", kNotFoundBody);
    a.head = head;
    return a;
  }
  const WebAsset& asset = *it;
  // Only a request naming the file's current version may be kept for good: index.html asks
  // for "/app.js?v=<hash>", so a new build's page never runs an old script.
  const bool versioned = !asset.hash.empty() && query == "v=" + std::string(asset.hash);
  HttpAnswer a{.status = 200, .reason = "OK", .headers = SecurityHeaders(), .head = head};
  a.headers.emplace_back("ETag", std::string(asset.etag));
  a.headers.emplace_back("Cache-Control",
                         versioned ? "public, max-age=31536000, immutable" : "no-cache");
  if (!if_none_match.empty() && ETagMatches(if_none_match, asset.etag)) {
    a.status = 304;
    a.reason = "Not Modified";
    return a;
  }
  a.headers.emplace_back("Content-Type", std::string(asset.content_type));
  a.body = asset.body;
  return a;
}

std::vector<std::string> ParseAllowedOrigins(std::string_view text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view entry = common::TrimSpace(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (entry.empty()) continue;
    const auto origin = ParseOrigin(entry);
    if (!origin) {
      throw std::invalid_argument("'" + std::string(entry) +
                                  "' is not an origin like https://mush.example.com[:port]");
    }
    out.push_back(origin->scheme + "://" + origin->authority);
  }
  return out;
}

bool OriginAllowed(std::string_view origin, std::string_view host,
                   const std::vector<std::string>& allowed) {
  if (origin.empty()) return true;  // not a browser: telnet-like tools, bots, the system tests
  const auto o = ParseOrigin(origin);
  if (!o) return false;  // "null" (a file or a sandboxed frame) and anything malformed
  if (allowed.empty()) {
    return !host.empty() &&
           o->authority == FoldDefaultPort(Lower(common::TrimSpace(host)), o->scheme);
  }
  const std::string normalized = o->scheme + "://" + o->authority;
  return std::find(allowed.begin(), allowed.end(), normalized) != allowed.end();
}

}  // namespace holomush::gateway
