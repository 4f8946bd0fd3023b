#include "holomush/common/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "holomush/common/text.hpp"

namespace holomush::common {
namespace {

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(const std::string& text) {
  const std::string t = AsciiLower(text);
  if (t == "true" || t == "1" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return false;
  return std::nullopt;
}

std::optional<double> ParseFloat(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

// Returns what is allowed when `text` is invalid for `spec`, nullopt when it is fine.
std::optional<std::string> Validate(const SettingSpec& spec, const std::string& text) {
  switch (spec.kind) {
    case SettingKind::kString:
      if (spec.required && text.empty()) return "a non-empty value";
      return std::nullopt;
    case SettingKind::kAddress:
      if (!ParseHostPort(text)) return "host:port with a port from 0 to 65535";
      return std::nullopt;
    case SettingKind::kDuration:
      if (!ParseDuration(text)) return "a duration such as 500ms, 30s, 5m or 2h";
      return std::nullopt;
    case SettingKind::kInt: {
      auto v = ParseInt(text);
      if (!v || *v < spec.min || *v > spec.max) {
        return "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
      }
      return std::nullopt;
    }
    case SettingKind::kFloat: {
      auto v = ParseFloat(text);
      if (!v || *v < static_cast<double>(spec.min) || *v > static_cast<double>(spec.max)) {
        return "a number from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
      }
      return std::nullopt;
    }
    case SettingKind::kBool:
      if (!ParseBool(text)) return "true or false";
      return std::nullopt;
    case SettingKind::kChoice:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        std::string allowed = "one of ";
        for (size_t i = 0; i < spec.choices.size(); ++i) {
          allowed += (i ? ", " : "") + spec.choices[i];
        }
        return allowed;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::string Describe(const SettingSpec& spec, const std::string& source) {
  if (source == "flag") return "--" + spec.name;
  if (source == "environment") return EnvName(spec);
  if (source == "config file") return spec.name + " (config file)";
  return spec.name;
}

}  // namespace

std::string EnvName(const SettingSpec& spec) {
  if (!spec.env.empty()) return spec.env;
  std::string out = "HOLOMUSH_";
  for (char c : spec.name) {
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<HostPort> ParseHostPort(const std::string& text) {
  HostPort hp;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    hp.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    hp.host = text.substr(0, colon);
    if (hp.host.find(':') != std::string::npos) return std::nullopt;
    port_text = text.substr(colon + 1);
  }
  auto port = ParseInt(port_text);
  if (!port || *port < 0 || *port > 65535) return std::nullopt;
  for (char c : hp.host) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == '/') return std::nullopt;
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  hp.port = static_cast<uint16_t>(*port);
  return hp;
}

std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  auto number = ParseInt(text.substr(0, i));
  if (!number || *number < 0) return std::nullopt;
  const std::string unit = text.substr(i);
  using std::chrono::milliseconds;
  if (unit == "ms") return milliseconds(*number);
  if (unit == "s" || unit.empty()) return milliseconds(*number * 1000);
  if (unit == "m") return milliseconds(*number * 60'000);
  if (unit == "h") return milliseconds(*number * 3'600'000);
  return std::nullopt;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Config Config::Load(const std::vector<SettingSpec>& specs,
                    const std::map<std::string, std::string>& flags, const EnvLookup& env,
                    const std::optional<std::string>& yaml_path) {
  YAML::Node file;
  if (yaml_path) {
    try {
      file = YAML::LoadFile(*yaml_path);
    } catch (const YAML::BadFile&) {
      throw ConfigError("invalid setting --config: cannot read \"" + *yaml_path +
                        "\"; expected a readable YAML file");
    } catch (const YAML::Exception& e) {
      throw ConfigError("invalid setting --config: \"" + *yaml_path + "\" is not valid YAML (" +
                        e.msg + ")");
    }
    if (file && !file.IsNull() && !file.IsMap()) {
      throw ConfigError("invalid setting --config: \"" + *yaml_path +
                        "\" must be a mapping of setting names to values");
    }
    if (file.IsMap()) {
      for (const auto& kv : file) {
        const auto key = kv.first.as<std::string>();
        auto known = std::find_if(specs.begin(), specs.end(),
                                  [&](const SettingSpec& s) { return s.name == key; });
        if (known == specs.end()) {
          throw ConfigError("invalid setting " + key + " (config file): unknown setting");
        }
      }
    }
  }

  Config config;
  for (const auto& spec : specs) {
    Value value{spec.default_value, "default"};
    if (file.IsMap() && file[spec.name]) {
      const auto& node = file[spec.name];
      if (!node.IsScalar()) {
        throw ConfigError("invalid setting " + spec.name +
                          " (config file): expected a single value, not a list or mapping");
      }
      value = {node.as<std::string>(), "config file"};
    }
    if (auto e = env(EnvName(spec))) value = {*e, "environment"};
    if (auto f = flags.find(spec.name); f != flags.end()) value = {f->second, "flag"};

    if (spec.required && value.text.empty()) {
      throw ConfigError("missing setting " + spec.name + ": set --" + spec.name + " or " +
                        EnvName(spec));
    }
    if (auto allowed = Validate(spec, value.text)) {
      const std::string shown = spec.secret ? "(hidden)" : "\"" + value.text + "\"";
      throw ConfigError("invalid setting " + Describe(spec, value.source) + ": " + shown +
                        "; expected " + *allowed);
    }
    config.values_[spec.name] = std::move(value);
  }
  return config;
}

const Config::Value& Config::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("setting not declared: " + name);
  return it->second;
}

const std::string& Config::String(const std::string& name) const { return Get(name).text; }
HostPort Config::Address(const std::string& name) const { return *ParseHostPort(Get(name).text); }
std::chrono::milliseconds Config::Duration(const std::string& name) const {
  return *ParseDuration(Get(name).text);
}
int64_t Config::Int(const std::string& name) const { return *ParseInt(Get(name).text); }
double Config::Float(const std::string& name) const { return *ParseFloat(Get(name).text); }
bool Config::Bool(const std::string& name) const { return *ParseBool(Get(name).text); }
const std::string& Config::Source(const std::string& name) const { return Get(name).source; }

}  // namespace holomush::common
