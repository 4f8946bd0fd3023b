// Small readers of Kubernetes objects shared by the controller's phases.
#pragma once

#include <openssl/rand.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "holomush/operator/api.hpp"

namespace holomush::op::controller_support {

// object[key] when it is an object, else an empty object: never the assertion that a
// const operator[] on a missing key is (objects fresh from an apply may lack status).
inline const Json& Field(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : kEmpty;
}

inline bool OwnedBy(const Json& object, const std::string& uid) {
  for (const Json& ref : Field(object, "metadata").value("ownerReferences", Json::array())) {
    if (ref.value("uid", "") == uid) return true;
  }
  return false;
}

inline std::string Annotation(const Json& object, const char* key) {
  return Field(Field(object, "metadata"), "annotations").value(key, "");
}

inline bool HasCondition(const Json& object, const std::string& type, const std::string& status,
                         const std::string& reason = "") {
  for (const Json& c : Field(object, "status").value("conditions", Json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == status &&
        (reason.empty() || c.value("reason", "") == reason)) {
      return true;
    }
  }
  return false;
}

// When a Job failed (its Failed condition's transition), if it has.
inline std::optional<int64_t> JobFailedAt(const Json& job) {
  for (const Json& c : Field(job, "status").value("conditions", Json::array())) {
    if (c.value("type", "") == "Failed" && c.value("status", "") == "True") {
      return ParseTime(c.value("lastTransitionTime", ""));
    }
  }
  return std::nullopt;
}

// The last non-blank line of `text` (a pod's termination message: with
// FallbackToLogsOnError, the tail of its log), at most 1000 bytes.
inline std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  const size_t newline = text.find_last_of('\n', end);
  const size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, std::min<size_t>(end + 1 - begin, 1000));
}

// What a backup pod's termination message says went wrong: the `error` of `holomush backup
// run`'s status line ({"msg": "backup failed", "error": "..."}), else its `msg`, or the last
// line of a log tail as it is.
inline std::string TerminationReason(const std::string& message) {
  const std::string line = LastLine(message);
  const Json status = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!status.is_object()) return line;
  for (const char* key : {"error", "msg"}) {
    auto it = status.find(key);
    if (it != status.end() && it->is_string()) return it->get<std::string>().substr(0, 1000);
  }
  return line;
}

// `bytes` random bytes as lower-case hex (event names, generated passwords).
inline std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

}  // namespace holomush::op::controller_support
