// Structured logging: one line per record on stdout, JSON (default) or text.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spdlog::sinks {
class sink;
}

namespace holomush::common {

enum class LogFormat { kJson, kText };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

using LogFields = std::vector<std::pair<std::string, nlohmann::json>>;

// Sets the process-wide format, level and sink (stdout unless a test passes its own).
// Call once at start, before other threads log.
void ConfigureLogging(LogFormat format, LogLevel level,
                      std::shared_ptr<spdlog::sinks::sink> sink = nullptr);
LogFormat ParseLogFormat(const std::string& text);
LogLevel ParseLogLevel(const std::string& text);

// Cheap to copy; thread-safe (the sink serialises lines).
class Logger {
 public:
  explicit Logger(std::string component) : component_(std::move(component)) {}

  void Debug(std::string_view msg, const LogFields& fields = {}) const;
  void Info(std::string_view msg, const LogFields& fields = {}) const;
  void Warn(std::string_view msg, const LogFields& fields = {}) const;
  void Error(std::string_view msg, const LogFields& fields = {}) const;
  void Log(LogLevel level, std::string_view msg, const LogFields& fields) const;

  // Renders one record exactly as it would be written (used by tests).
  static std::string Format(LogFormat format, LogLevel level, std::string_view component,
                            std::string_view msg, const LogFields& fields);

 private:
  std::string component_;
};

}  // namespace holomush::common
