// Typed, validated settings with one precedence: flags > environment > YAML file > defaults.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace holomush::common {

// Thrown at start-up only; what() is the one line the process prints before exiting.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class SettingKind { kString, kAddress, kDuration, kInt, kBool, kChoice, kFloat };

// One setting: `name` is the flag (without dashes) and the YAML key; the environment
// variable is HOLOMUSH_<NAME> unless `env` names another (DATABASE_URL).
struct SettingSpec {
  std::string name;
  SettingKind kind = SettingKind::kString;
  std::string default_value;
  std::string help;
  std::vector<std::string> choices;  // kChoice
  int64_t min = INT64_MIN;           // kInt
  int64_t max = INT64_MAX;           // kInt
  std::string env;
  bool required = false;
  bool secret = false;  // never echoed in error messages
};

std::string EnvName(const SettingSpec& spec);

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string ToString() const;
};

// Parses "host:port", "[v6]:port" or ":port"; nullopt when malformed.
std::optional<HostPort> ParseHostPort(const std::string& text);
// Parses "500ms", "30s", "5m", "2h" or a bare number of seconds.
std::optional<std::chrono::milliseconds> ParseDuration(const std::string& text);

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnvironment();

class Config {
 public:
  // Resolves every spec; throws ConfigError naming the setting, its source, the value and
  // what is allowed. `flags` holds only flags the user gave.
  static Config Load(const std::vector<SettingSpec>& specs,
                     const std::map<std::string, std::string>& flags, const EnvLookup& env,
                     const std::optional<std::string>& yaml_path);

  const std::string& String(const std::string& name) const;
  HostPort Address(const std::string& name) const;
  std::chrono::milliseconds Duration(const std::string& name) const;
  int64_t Int(const std::string& name) const;
  double Float(const std::string& name) const;
  bool Bool(const std::string& name) const;
  // Where the value came from: "flag", "environment", "config file" or "default".
  const std::string& Source(const std::string& name) const;

 private:
  struct Value {
    std::string text;
    std::string source;
  };
  const Value& Get(const std::string& name) const;
  std::map<std::string, Value> values_;
};

}  // namespace holomush::common
