// Named spdlog loggers sharing one sink. The JSON formatter escapes the
// message itself so that every line stays one valid JSON object whatever the
// message holds (quotes, newlines, control characters).
#include "server/common/logging.h"

#include <array>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/details/log_msg.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace dsd::logging {
namespace {

struct LevelName {
  std::string_view name;
  spdlog::level::level_enum level;
};

constexpr std::array<LevelName, 5> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"error", spdlog::level::err},
}};

std::string_view LevelText(spdlog::level::level_enum level) {
  for (const LevelName& l : kLevels) {
    if (l.level == level) return l.name;
  }
  return level == spdlog::level::critical ? "critical" : "off";
}

void AppendText(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.append(text.data(), text.data() + text.size());
}

// JSON string escaping (RFC 8259 section 7): quote, backslash and the control
// characters; other bytes, UTF-8 included, pass through unchanged.
void AppendJsonString(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  dest.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"':
        AppendText("\\\"", dest);
        break;
      case '\\':
        AppendText("\\\\", dest);
        break;
      case '\n':
        AppendText("\\n", dest);
        break;
      case '\r':
        AppendText("\\r", dest);
        break;
      case '\t':
        AppendText("\\t", dest);
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const auto byte = static_cast<unsigned char>(c);
          const char escaped[] = {
              '\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xf]};
          dest.append(escaped, escaped + sizeof(escaped));
        } else {
          dest.push_back(c);
        }
    }
  }
  dest.push_back('"');
}

// One JSON object per line: time (RFC 3339, UTC, microseconds), level,
// logger, msg.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    AppendText("{\"time\":\"", dest);
    AppendText(
        absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromChrono(msg.time),
                         absl::UTCTimeZone()),
        dest);
    AppendText("\",\"level\":\"", dest);
    AppendText(LevelText(msg.level), dest);
    AppendText("\",\"logger\":", dest);
    AppendJsonString(
        std::string_view(msg.logger_name.data(), msg.logger_name.size()), dest);
    AppendText(",\"msg\":", dest);
    AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()),
                     dest);
    AppendText("}\n", dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The current configuration, applied to loggers created later on demand.
struct State {
  std::mutex mu;
  LoggingOptions options;
  spdlog::sink_ptr sink;
};

State& GlobalState() {
  // Leaked on purpose: loggers may log from static destructors.
  static State* const state = new State;
  return *state;
}

void Configure(spdlog::logger& logger, const LoggingOptions& options,
               const spdlog::sink_ptr& sink) {
  logger.sinks().assign(1, sink);
  logger.set_formatter(MakeFormatter(options.format));
  logger.set_level(options.level);
}

spdlog::sink_ptr DefaultSink() {
  return std::make_shared<spdlog::sinks::stderr_sink_mt>();
}

}  // namespace

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text) {
  for (const LevelName& l : kLevels) {
    if (l.name == text) return l.level;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", std::string(text),
                   "\"; expected trace, debug, info, warn or error"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log format \"", std::string(text), "\"; expected text or json"));
}

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc);
}

void SetUpLogging(const LoggingOptions& options, spdlog::sink_ptr sink) {
  State& state = GlobalState();
  std::lock_guard<std::mutex> lock(state.mu);
  state.options = options;
  state.sink = sink != nullptr ? std::move(sink) : DefaultSink();
  for (const std::string_view name :
       {kTransportLogger, kServiceLogger, kConvertLogger}) {
    if (spdlog::get(std::string(name)) == nullptr) {
      spdlog::register_logger(
          std::make_shared<spdlog::logger>(std::string(name), state.sink));
    }
  }
  // Every registered logger, the default one included, so that a stray
  // spdlog::info() is formatted like the rest.
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    Configure(*logger, state.options, state.sink);
  });
}

std::shared_ptr<spdlog::logger> Logger(std::string_view name) {
  const std::string key(name);
  if (auto logger = spdlog::get(key); logger != nullptr) return logger;
  State& state = GlobalState();
  std::lock_guard<std::mutex> lock(state.mu);
  if (auto logger = spdlog::get(key); logger != nullptr) return logger;
  if (state.sink == nullptr) state.sink = DefaultSink();
  auto logger = std::make_shared<spdlog::logger>(key, state.sink);
  Configure(*logger, state.options, state.sink);
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace dsd::logging
