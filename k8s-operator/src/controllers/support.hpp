// Small readers of Kubernetes objects shared by the controller's phases.
#pragma once

#include <openssl/rand.h>

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
