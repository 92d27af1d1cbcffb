// Logging set-up shared by every layer that logs: one spdlog named logger per
// layer ("transport", "service", "convert"), all writing to one sink, with
// the level and the line format (text, or one JSON object per line) chosen
// once at start-up from flags. The engine never logs.
#ifndef DSD_SERVER_COMMON_LOGGING_H_
#define DSD_SERVER_COMMON_LOGGING_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "spdlog/common.h"
#include "spdlog/formatter.h"
#include "spdlog/logger.h"

namespace dsd::logging {

// The named loggers, one per layer.
inline constexpr std::string_view kTransportLogger = "transport";
inline constexpr std::string_view kServiceLogger = "service";
inline constexpr std::string_view kConvertLogger = "convert";

enum class LogFormat {
  // "2024-05-01T12:00:00.123Z info [transport] message", one per line.
  kText,
  // {"time":"2024-05-01T12:00:00.123456Z","level":"info",
  //  "logger":"transport","msg":"message"}, one object per line.
  kJson,
};

struct LoggingOptions {
  // Lines below this level are dropped.
  spdlog::level::level_enum level = spdlog::level::info;
  LogFormat format = LogFormat::kText;
};

// Parses a --log_level value: trace, debug, info, warn or error.
// INVALID_ARGUMENT for anything else (including the empty string).
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text);

// Parses a --log_format value: text or json. INVALID_ARGUMENT otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);

// A formatter for `format`; times are UTC.
std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format);

// (Re)configures every named logger, and the spdlog default logger, to write
// to `sink` (nullptr: standard error) at `options.level` in
// `options.format`. Call once from main before any traffic; tests may call
// it again with their own sink. Not safe concurrently with logging.
void SetUpLogging(const LoggingOptions& options,
                  spdlog::sink_ptr sink = nullptr);

// The named logger `name`. Before SetUpLogging it is created on demand with
// the defaults (info, text, standard error). Never null; thread-safe.
std::shared_ptr<spdlog::logger> Logger(std::string_view name);

}  // namespace dsd::logging

#endif  // DSD_SERVER_COMMON_LOGGING_H_
