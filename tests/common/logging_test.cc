// server/common/logging: level and format parsing, and the JSON line format
// (one object per line, escaped). Kept with the transport tests, the only
// layer that sets logging up.
#include "server/common/logging.h"

#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/sinks/ostream_sink.h"
#include "tests/testing/status_matchers.h"

namespace dsd::logging {
namespace {

using ::dsd::testing::IsOk;
using ::dsd::testing::StatusIs;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using ::testing::StartsWith;

struct LevelCase {
  const char* text;
  spdlog::level::level_enum level;
};

TEST(ParseLogLevelTest, AcceptsTheFiveLevels) {
  constexpr LevelCase kCases[] = {{"trace", spdlog::level::trace},
                                  {"debug", spdlog::level::debug},
                                  {"info", spdlog::level::info},
                                  {"warn", spdlog::level::warn},
                                  {"error", spdlog::level::err}};
  for (const LevelCase& c : kCases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<spdlog::level::level_enum> level = ParseLogLevel(c.text);
    ASSERT_THAT(level, IsOk()) << level.status();
    EXPECT_EQ(*level, c.level);
  }
}

TEST(ParseLogLevelTest, RejectsOthers) {
  for (const char* text : {"", "INFO", "warning", "off", "critical"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(ParseLogLevel(text),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(ParseLogFormatTest, TextAndJson) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_THAT(ParseLogFormat("yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

struct SanitizeCase {
  const char* name;
  std::string text;
  size_t max_bytes;
  std::string expected;
};

// ctest lists cases by name, not as bytes.
void PrintTo(const SanitizeCase& c, std::ostream* os) { *os << c.name; }

class SanitizeTest : public ::testing::TestWithParam<SanitizeCase> {};

TEST_P(SanitizeTest, EscapesAndCuts) {
  EXPECT_EQ(Sanitize(GetParam().text, GetParam().max_bytes),
            GetParam().expected);
}

// "\xe2\x80\xa6" is U+2026, the ellipsis of the cut marker.
INSTANTIATE_TEST_SUITE_P(
    Logging, SanitizeTest,
    ::testing::ValuesIn(std::vector<SanitizeCase>{
        {"Plain", "snapshot.nodes[0].name", 256, "snapshot.nodes[0].name"},
        {"NewlineCannotStartALine",
         "a\n2026-01-01T00:00:00.000Z error [transport] forged", 256,
         "a\\n2026-01-01T00:00:00.000Z error [transport] forged"},
        {"ControlCharacters", std::string("\r\t\x1b[31m\x7f\x00", 9), 256,
         "\\r\\t\\x1b[31m\\x7f\\x00"},
        {"Utf8Kept", "zone=\xc3\xa9t\xc3\xa9 \xf0\x9f\x99\x82", 256,
         "zone=\xc3\xa9t\xc3\xa9 \xf0\x9f\x99\x82"},
        {"NotUtf8Escaped", "\xff\xfe\xc3", 256, "\\xff\\xfe\\xc3"},
        {"CutWithItsLength", std::string(300, 'k'), 256,
         std::string(256, 'k') + "\xe2\x80\xa6(300 bytes)"},
        {"CutNeverSplitsACharacter",
         "ab\xc3\xa9"
         "cd",
         3, "ab\xe2\x80\xa6(6 bytes)"},
        {"ExactlyTheLimitIsNotCut", "abc", 3, "abc"},
        {"Empty", "", 256, ""},
    }),
    [](const ::testing::TestParamInfo<SanitizeCase>& row) {
      return std::string(row.param.name);
    });

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
  }
  // Back to the defaults (standard error) so no logger keeps a sink that
  // points at this fixture's stream.
  void TearDown() override { SetUpLogging(LoggingOptions{}); }

  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

TEST_F(LoggingTest, JsonIsOneEscapedObjectPerLine) {
  SetUpLogging({spdlog::level::debug, LogFormat::kJson}, sink_);
  Logger(kTransportLogger)->info("say \"hi\"\n\tback\\slash \x01");
  Logger(kGrpcLogger)->debug("second");

  const std::string text = out_.str();
  const size_t first_end = text.find('\n');
  ASSERT_NE(first_end, std::string::npos);
  const std::string first = text.substr(0, first_end);
  EXPECT_THAT(first,
              MatchesRegex(R"(\{"time":"[0-9]{4}-[0-9]{2}-[0-9]{2}T)"
                           R"([0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z",.*)"));
  EXPECT_THAT(first, HasSubstr(R"("level":"info","logger":"transport",)"));
  EXPECT_THAT(first, EndsWith(R"("msg":"say \"hi\"\n\tback\\slash \u0001"})"));
  const std::string second = text.substr(first_end + 1);
  EXPECT_THAT(second, HasSubstr(R"("level":"debug","logger":"grpc",)"));
  EXPECT_THAT(second, EndsWith("\"msg\":\"second\"}\n"));
}

// Whatever a call site logs, a message is one line of bounded length: a
// newline is escaped, 4 MB are cut to kMaxLoggedMessageBytes.
TEST_F(LoggingTest, TextMessageIsOneBoundedLine) {
  SetUpLogging({spdlog::level::info, LogFormat::kText}, sink_);
  Logger(kTransportLogger)
      ->warn("field=labels[\"a\n2026-01-01T00:00:00.000Z error [x] forged\"]");
  Logger(kTransportLogger)->warn("value={}", std::string(4 << 20, 'v'));
  const std::string text = out_.str();
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u) << text.substr(0, 1000);
  EXPECT_THAT(lines[0], HasSubstr("labels[\"a\\n2026-01-01T00:00:00.000Z"));
  EXPECT_LT(lines[1].size(), kMaxLoggedMessageBytes + 100);
  EXPECT_THAT(lines[1], EndsWith("\xe2\x80\xa6(4194310 bytes)"));
}

// JSON lines stay valid JSON (UTF-8 only) and bounded too.
TEST_F(LoggingTest, JsonMessageIsOneBoundedValidLine) {
  SetUpLogging({spdlog::level::info, LogFormat::kJson}, sink_);
  Logger(kTransportLogger)->info("bad \xff\xfe bytes");
  Logger(kTransportLogger)->info("{}", std::string(4 << 20, 'v'));
  const std::string text = out_.str();
  const size_t first_end = text.find('\n');
  ASSERT_NE(first_end, std::string::npos);
  EXPECT_THAT(text.substr(0, first_end),
              EndsWith(R"("msg":"bad \ufffd\ufffd bytes"})"));
  const std::string second = text.substr(first_end + 1);
  EXPECT_LT(second.size(), kMaxLoggedMessageBytes + 200);
  EXPECT_THAT(second, EndsWith("\xe2\x80\xa6(4194304 bytes)\"}\n"));
}

TEST_F(LoggingTest, LevelFiltersEveryNamedLogger) {
  SetUpLogging({spdlog::level::warn, LogFormat::kText}, sink_);
  Logger(kTransportLogger)->info("dropped");
  Logger(kGrpcLogger)->warn("kept");
  Logger("created-later")->info("dropped too");
  Logger("created-later")->error("kept too");
  const std::string text = out_.str();
  EXPECT_THAT(text, Not(HasSubstr("dropped")));
  EXPECT_THAT(text, HasSubstr("warning [grpc] kept\n"));
  EXPECT_THAT(text, HasSubstr("error [created-later] kept too\n"));
  EXPECT_THAT(text, StartsWith("20"));
}

TEST_F(LoggingTest, LoggerIsCreatedOnDemandAndShared) {
  const auto a = Logger("on-demand");
  const auto b = Logger("on-demand");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace dsd::logging
