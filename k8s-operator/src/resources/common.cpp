// Names, labels, hashing and comparison shared by every builder.
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

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

Json ContainerResources(const Json& given, const std::string& component) {
  if (given.is_object() && !given.empty()) return given;
  // Requests: what a quiet game of 100 players used (bench/RESULTS.md, abuse quiet run:
  // core 85m CPU and 50 MiB, gateway 80m and 29 MiB peak), rounded up with room for twice
  // that. Memory limits: the worst case the design bounds (the gateway's 2,000 connections
  // with 256 KiB of output each; core's bounded queues and argon2's 19 MiB per hash), so
  // the limit catches a leak, never a busy evening. No CPU limits: throttling a game server
  // only adds latency; requests already share the node.
  struct Default {
    const char* component;
    const char* cpu;
    const char* memory;
    const char* memory_limit;
  };
  static constexpr Default kDefaults[] = {{"core", "100m", "128Mi", "1Gi"},
                                          {"gateway", "100m", "64Mi", "768Mi"},
                                          {"backup", "50m", "64Mi", "512Mi"},
                                          {"database", "100m", "256Mi", "1Gi"}};
  for (const Default& d : kDefaults) {
    if (component == d.component) {
      return Json{{"requests", {{"cpu", d.cpu}, {"memory", d.memory}}},
                  {"limits", {{"memory", d.memory_limit}}}};
    }
  }
  return Json::object();
}

std::string SelectorString(const HoloMush& hm, const std::string& component) {
  std::string out;
  const Json labels = SelectorLabels(hm, component);
  for (const auto& [key, value] : labels.items()) {
    if (!out.empty()) out += ",";
    out += key + "=" + value.get<std::string>();
  }
  return out;
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

namespace {

// The values one cron field allows, and whether it was `*` (or `?`): day of month and day
// of week combine by AND when either is a star, else by OR (as Kubernetes' parser does).
struct CronField {
  std::vector<bool> allowed;
  bool star = false;
};

// A number, or a name: `names[i]` stands for first_named + i.
std::optional<int> CronValue(const std::string& text, const std::vector<std::string>& names = {},
                             int first_named = 0) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::stoi(text);
  }
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == lower) return first_named + static_cast<int>(i);
  }
  return std::nullopt;
}

// `names[i]` stands for lo + i (months from 1, weekdays from 0).
std::optional<CronField> ParseCronField(const std::string& text, int lo, int hi,
                                        const std::vector<std::string>& names = {}) {
  CronField field;
  field.allowed.assign(static_cast<size_t>(hi + 1), false);
  field.star = text == "*" || text == "?";
  std::istringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string::npos) {
      const auto n = CronValue(item.substr(slash + 1));
      if (!n || *n < 1) return std::nullopt;
      step = *n;
      item = item.substr(0, slash);
    }
    int first = lo;
    int last = hi;
    if (item != "*" && item != "?") {
      const auto dash = item.find('-');
      const auto a = CronValue(item.substr(0, dash), names, lo);
      if (!a) return std::nullopt;
      first = *a;
      if (dash != std::string::npos) {
        const auto b = CronValue(item.substr(dash + 1), names, lo);
        if (!b) return std::nullopt;
        last = *b;
      } else if (step == 1) {
        last = first;  // a single value; `5/15` runs from 5 to the end
      }
    }
    if (first < lo || last > hi || first > last) return std::nullopt;
    for (int v = first; v <= last; v += step) field.allowed[static_cast<size_t>(v)] = true;
  }
  return field;
}

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
}

}  // namespace

std::optional<int64_t> ScheduleTwoRunSpanSeconds(const std::string& schedule) {
  static const std::map<std::string, std::string> kDescriptors = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}};
  const auto descriptor = kDescriptors.find(schedule);
  std::istringstream in(descriptor != kDescriptors.end() ? descriptor->second : schedule);
  std::vector<std::string> f;
  for (std::string field; in >> field;) f.push_back(field);
  if (f.size() != 5) return std::nullopt;
  static const std::vector<std::string> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                   "jul", "aug", "sep", "oct", "nov", "dec"};
  static const std::vector<std::string> kDays = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  const auto minute = ParseCronField(f[0], 0, 59);
  const auto hour = ParseCronField(f[1], 0, 23);
  const auto dom = ParseCronField(f[2], 1, 31);
  const auto month = ParseCronField(f[3], 1, 12, kMonths);
  auto dow = ParseCronField(f[4], 0, 7, kDays);
  if (!minute || !hour || !dom || !month || !dow) return std::nullopt;
  if (dow->allowed[7]) dow->allowed[0] = true;  // 7 is Sunday too

  // The minutes of a day it runs at; every day it runs has the same ones.
  std::vector<int64_t> times;
  for (int h = 0; h < 24; ++h) {
    for (int m = 0; m < 60; ++m) {
      if (hour->allowed[h] && minute->allowed[m]) times.push_back(h * 60 + m);
    }
  }
  if (times.empty()) return std::nullopt;
  int64_t span = 0;  // minutes
  for (size_t i = 0; i + 2 < times.size(); ++i) span = std::max(span, times[i + 2] - times[i]);

  // Walk nine years of days (two leap days apart at least, every weekday on every date),
  // carrying the last two runs across days.
  const int64_t first_day = DaysFromCivil(2024, 1, 1);
  std::optional<int64_t> before_last;
  std::optional<int64_t> last;
  int runs = 0;
  for (int64_t day = first_day; day < first_day + 9 * 366; ++day) {
    int m = 0;
    int d = 0;
    CivilFromDays(day, m, d);
    const int weekday = static_cast<int>(((day % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    const bool by_date = dom->allowed[d];
    const bool by_weekday = dow->allowed[weekday];
    const bool runs_today = month->allowed[m] && (dom->star || dow->star ? by_date && by_weekday
                                                                         : by_date || by_weekday);
    if (!runs_today) continue;
    const int64_t base = day * 1440;
    // The first two runs of the day close the spans that reach back into earlier days...
    for (size_t i = 0; i < std::min<size_t>(2, times.size()); ++i) {
      const int64_t t = base + times[i];
      if (before_last) span = std::max(span, t - *before_last);
      before_last = last;
      last = t;
    }
    // ...the rest lie within the day, measured above.
    if (times.size() > 2) {
      before_last = base + times[times.size() - 2];
      last = base + times.back();
    }
    runs += static_cast<int>(times.size());
  }
  if (runs < 3) return std::nullopt;
  return span * 60;
}

int64_t BackupMaxAgeSeconds(const std::string& schedule) {
  constexpr int64_t kTwoDays = 2 * 86400;
  return ScheduleTwoRunSpanSeconds(schedule).value_or(kTwoDays);
}

}  // namespace holomush::op::resources
