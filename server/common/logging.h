// Logging set-up shared by every layer that logs: one spdlog named logger per
// layer that logs ("transport"; gRPC core's own lines as "grpc"), all
// writing to one sink, with the level and the line format (text, or one JSON
// object per line) chosen once at start-up from flags. The engine, convert
// and the service never log: they return statuses, and transport logs one
// line per call. A layer that starts logging adds its name here.
#ifndef DSD_SERVER_COMMON_LOGGING_H_
#define DSD_SERVER_COMMON_LOGGING_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spdlog/common.h"
#include "spdlog/formatter.h"
#include "spdlog/logger.h"

namespace dsd::logging {

// The named loggers: transport's, and gRPC core's own lines.
inline constexpr std::string_view kTransportLogger = "transport";
inline constexpr std::string_view kGrpcLogger = "grpc";

// How much of one user-supplied string (a field path, a method name, a
// message quoting request values) a log line carries; see Sanitize.
inline constexpr size_t kMaxLoggedValueBytes = 256;
// How much of any message a log line carries, whoever logged it: the
// formatters cut longer ones the same way.
inline constexpr size_t kMaxLoggedMessageBytes = 4096;

// `text` made safe to put in a log line: control characters become
// escapes (\n, \r, \t, \x1b, \x7f), bytes that are not UTF-8 become \xNN,
// so no value can start a line of its own or garble a terminal; longer
// than `max_bytes`, it is cut there (never inside a character) and ends in
// "…(N bytes)" with its full length. Log every user-supplied string
// through it.
std::string Sanitize(std::string_view text,
                     size_t max_bytes = kMaxLoggedValueBytes);

// Both formats write each message on one line, cut to
// kMaxLoggedMessageBytes: text escapes its control characters (Sanitize),
// JSON escapes them as JSON does (and writes bytes that are not UTF-8 as
// U+FFFD).
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

// (Re)configures every named logger (the two above, and any other already
// created), and the spdlog default logger, to write to `sink` (nullptr:
// standard error) at `options.level` in `options.format`. Call once from
// main before any traffic; tests may call it again with their own sink. Not
// safe concurrently with logging.
void SetUpLogging(const LoggingOptions& options,
                  spdlog::sink_ptr sink = nullptr);

// The named logger `name`. Before SetUpLogging it is created on demand with
// the defaults (info, text, standard error). Never null; thread-safe.
std::shared_ptr<spdlog::logger> Logger(std::string_view name);

}  // namespace dsd::logging

#endif  // DSD_SERVER_COMMON_LOGGING_H_
