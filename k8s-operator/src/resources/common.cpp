// Names, labels, hashing and comparison shared by every builder.
#include <openssl/evp.h>

#include <sstream>
#include <stdexcept>

#include "holomush/operator/resources.hpp"

namespace holomush::op::resources {

std::string ChildName(const HoloMush& hm, const std::string& suffix) {
  return suffix.empty() ? hm.name : hm.name + "-" + suffix;
}
std::string TlsSecretName(const HoloMush& hm) {
  return hm.spec.tls.secret_name.empty() ? ChildName(hm, "tls") : hm.spec.tls.secret_name;
}
std::string DatabaseSecretName(const HoloMush& hm) {
  return hm.spec.database.existing_secret ? *hm.spec.database.existing_secret
                                          : ChildName(hm, "postgres");
}
std::string CoreAddress(const HoloMush& hm) {
  return ChildName(hm, "core") + "." + hm.ns + ".svc:" + std::to_string(kCoreGrpcPort);
}

Json SelectorLabels(const HoloMush& hm, const std::string& component) {
  return Json{{kNameLabel, "holomush"}, {kInstanceLabel, hm.name}, {kComponentLabel, component}};
}

Json Labels(const HoloMush& hm, const std::string& component) {
  Json labels = SelectorLabels(hm, component);
  labels[kManagedByLabel] = kManagedBy;
  labels["app.kubernetes.io/part-of"] = "holomush";
  return labels;
}

Json OwnerReference(const HoloMush& hm) {
  return Json{{"apiVersion", kApiVersion}, {"kind", kKind},
              {"name", hm.name},           {"uid", hm.uid},
              {"controller", true},        {"blockOwnerDeletion", true}};
}

Json ChildMetadata(const HoloMush& hm, const std::string& name, const std::string& component) {
  return Json{{"name", name},
              {"namespace", hm.ns},
              {"labels", Labels(hm, component)},
              {"ownerReferences", Json::array({OwnerReference(hm)})}};
}

std::string Base64Encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Base64Decode(const std::string& text) {
  if (text.empty()) return {};
  std::string out(3 * text.size() / 4 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return {};
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (text.size() >= 1 && text[text.size() - 1] == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

std::string Hash(const Json& object) {
  const std::string text = object.dump();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

bool Covers(const Json& live, const Json& want) {
  if (want.is_object()) {
    if (!live.is_object()) return want.empty() && live.is_null();
    for (auto it = want.begin(); it != want.end(); ++it) {
      auto found = live.find(it.key());
      if (found == live.end()) {
        // The API server drops empty maps and lists (omitempty).
        if ((it->is_object() || it->is_array()) && it->empty()) continue;
        if (it->is_null()) continue;
        return false;
      }
      if (!Covers(*found, *it)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!live.is_array()) return want.empty() && live.is_null();
    if (live.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!Covers(live[i], want[i])) return false;
    }
    return true;
  }
  if (want.is_number() && live.is_number()) return want == live;
  // Quantities given as numbers come back as strings ("cpu: 1" -> "1").
  if (want.is_number() && live.is_string()) return want.dump() == live.get<std::string>();
  return want == live;
}

int64_t ScheduleIntervalSeconds(const std::string& schedule) {
  constexpr int64_t kHour = 3600;
  constexpr int64_t kDay = 24 * kHour;
  if (schedule == "@hourly") return kHour;
  if (schedule == "@daily" || schedule == "@midnight") return kDay;
  if (schedule == "@weekly") return 7 * kDay;
  if (schedule == "@monthly") return 31 * kDay;
  std::istringstream in(schedule);
  std::vector<std::string> f;
  std::string field;
  while (in >> field) f.push_back(field);
  if (f.size() != 5) return kDay;
  auto fixed = [](const std::string& s) { return s.find_first_of("*/,-") == std::string::npos; };
  auto step = [](const std::string& s) -> int64_t {
    auto slash = s.find('/');
    if (slash == std::string::npos) return 0;
    try {
      return std::stoll(s.substr(slash + 1));
    } catch (const std::exception&) {
      return 0;
    }
  };
  if (fixed(f[2])) return 31 * kDay;
  if (fixed(f[4])) return 7 * kDay;
  if (fixed(f[1])) return kDay;
  if (const int64_t hours = step(f[1]); hours > 0) return hours * kHour;
  if (fixed(f[0])) return kHour;
  if (const int64_t minutes = step(f[0]); minutes > 0) return minutes * 60;
  return 60;
}

}  // namespace holomush::op::resources
