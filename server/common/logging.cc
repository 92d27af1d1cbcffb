// Named spdlog loggers sharing one sink. Both formatters make each message
// one line whatever it holds: text escapes control characters, JSON
// escapes the message itself so that every line stays one valid JSON
// object (quotes, newlines, control characters, bytes that are not UTF-8);
// both cut it at kMaxLoggedMessageBytes. A client's label key with a
// newline cannot forge a line, nor a 4 MB value make a 4 MB line, even
// where a call site forgot Sanitize.
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

// The length of the UTF-8 character at text[i], or 0 if the bytes there
// are not one (a stray continuation byte, a truncated or overlong
// sequence, a surrogate, above U+10FFFF).
size_t Utf8Length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[i + k]);
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80;  // bounds of the second byte
  unsigned char high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;   // overlong
    if (lead == 0xed) high = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;   // overlong
    if (lead == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xbf) return 0;
  }
  return length;
}

// How many leading bytes of `text` fit in `max_bytes` without cutting a
// character (all of it when it fits).
size_t CutAt(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
    --end;
  }
  return end;
}

std::string CutMarker(size_t full_bytes) {
  return absl::StrCat("\xe2\x80\xa6(", full_bytes, " bytes)");
}

// The text formatter: the pattern, applied to the sanitized message.
class SafeTextFormatter final : public spdlog::formatter {
 public:
  SafeTextFormatter()
      : pattern_("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v",
                 spdlog::pattern_time_type::utc) {}

  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    const std::string safe =
        Sanitize(std::string_view(msg.payload.data(), msg.payload.size()),
                 kMaxLoggedMessageBytes);
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(safe.data(), safe.size());
    pattern_.format(copy, dest);
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<SafeTextFormatter>();
  }

 private:
  spdlog::pattern_formatter pattern_;
};

// JSON string escaping (RFC 8259 section 7): quote, backslash and the control
// characters; UTF-8 passes through unchanged, other bytes become U+FFFD so
// that the line stays valid JSON.
void AppendJsonString(std::string_view text, spdlog::memory_buf_t& dest) {
  static constexpr char kHex[] = "0123456789abcdef";
  dest.push_back('"');
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80) {
      const size_t length = Utf8Length(text, i);
      if (length == 0) {
        AppendText("\\ufffd", dest);
      } else {
        AppendText(text.substr(i, length), dest);
        i += length - 1;
      }
      continue;
    }
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
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const size_t keep = CutAt(payload, kMaxLoggedMessageBytes);
    if (keep == payload.size()) {
      AppendJsonString(payload, dest);
    } else {
      std::string cut(payload.substr(0, keep));
      cut.append(CutMarker(payload.size()));
      AppendJsonString(cut, dest);
    }
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

std::string Sanitize(std::string_view text, size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t keep = CutAt(text, max_bytes);
  std::string out;
  out.reserve(keep + 16);
  for (size_t i = 0; i < keep; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      const size_t length = Utf8Length(text, i);
      if (length > 0 && i + length <= keep) {
        out.append(text.substr(i, length));
        i += length - 1;
        continue;
      }
    } else if (byte >= 0x20 && byte != 0x7f) {
      out.push_back(static_cast<char>(byte));
      continue;
    }
    switch (byte) {
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append({'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]});
    }
  }
  if (keep < text.size()) out.append(CutMarker(text.size()));
  return out;
}

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<SafeTextFormatter>();
}

void SetUpLogging(const LoggingOptions& options, spdlog::sink_ptr sink) {
  State& state = GlobalState();
  std::lock_guard<std::mutex> lock(state.mu);
  state.options = options;
  state.sink = sink != nullptr ? std::move(sink) : DefaultSink();
  for (const std::string_view name : {kTransportLogger, kGrpcLogger}) {
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
