#include "holomush/common/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace holomush::common {
namespace {

struct LoggingState {
  LogFormat format = LogFormat::kJson;
  std::shared_ptr<spdlog::logger> logger;
};

LoggingState& State() {
  static LoggingState state = [] {
    LoggingState s;
    s.logger = std::make_shared<spdlog::logger>("holomush",
                                                std::make_shared<spdlog::sinks::stdout_sink_mt>());
    s.logger->set_pattern("%v");
    s.logger->flush_on(spdlog::level::trace);
    s.logger->set_level(spdlog::level::info);
    return s;
  }();
  return state;
}

spdlog::level::level_enum ToSpd(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string Now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(millis));
  return out;
}

}  // namespace

void ConfigureLogging(LogFormat format, LogLevel level, std::shared_ptr<spdlog::sinks::sink> sink) {
  auto& state = State();
  state.format = format;
  if (sink) {
    state.logger = std::make_shared<spdlog::logger>("holomush", sink);
    state.logger->set_pattern("%v");
    state.logger->flush_on(spdlog::level::trace);
  }
  state.logger->set_level(ToSpd(level));
}

LogFormat ParseLogFormat(const std::string& text) {
  return text == "text" ? LogFormat::kText : LogFormat::kJson;
}

LogLevel ParseLogLevel(const std::string& text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

std::string Logger::Format(LogFormat format, LogLevel level, std::string_view component,
                           std::string_view msg, const LogFields& fields) {
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json line;
    line["time"] = Now();
    line["level"] = LevelName(level);
    line["component"] = component;
    line["msg"] = msg;
    for (const auto& [key, value] : fields) line[key] = value;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string out = Now();
  out += ' ';
  out += LevelName(level);
  out += " [";
  out += component;
  out += "] ";
  out += msg;
  for (const auto& [key, value] : fields) {
    out += ' ';
    out += key;
    out += '=';
    out += value.is_string() ? value.get<std::string>()
                             : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return out;
}

void Logger::Log(LogLevel level, std::string_view msg, const LogFields& fields) const {
  auto& state = State();
  if (!state.logger->should_log(ToSpd(level))) return;
  state.logger->log(ToSpd(level), Format(state.format, level, component_, msg, fields));
}

void Logger::Debug(std::string_view msg, const LogFields& fields) const {
  Log(LogLevel::kDebug, msg, fields);
}
void Logger::Info(std::string_view msg, const LogFields& fields) const {
  Log(LogLevel::kInfo, msg, fields);
}
void Logger::Warn(std::string_view msg, const LogFields& fields) const {
  Log(LogLevel::kWarn, msg, fields);
}
void Logger::Error(std::string_view msg, const LogFields& fields) const {
  Log(LogLevel::kError, msg, fields);
}

}  // namespace holomush::common
