#include "core/log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/temp_dir.h"

namespace zebros::core {
namespace {

// Sends stderr to a file for the life of the object (the log's only destination).
class CapturedStderr {
 public:
  explicit CapturedStderr(const std::string& path) : path_(path), saved_(::dup(STDERR_FILENO)) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    ::dup2(file, STDERR_FILENO);
    ::close(file);
  }
  ~CapturedStderr() { Restore(); }
  void Restore() {
    if (saved_ < 0) return;
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::vector<std::string> Lines() {
    Restore();
    std::ifstream in(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  std::string path_;
  int saved_;
};

TEST(LogTest, WritesOneJsonObjectPerLineWithItsFields) {
  testing::TempDir dir("zebros-log-test");
  CapturedStderr captured(dir.path() + "/stderr");
  Log(LogLevel::kWarn, "disk \"almost\" full", {{"free_mb", 12}, {"path", "/var/x"}});
  Log(LogLevel::kDebug, "dropped below the default level");
  const auto lines = captured.Lines();
  ASSERT_EQ(lines.size(), 1u);
  const auto line = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(line.at("level"), "warn");
  EXPECT_EQ(line.at("msg"), "disk \"almost\" full");
  EXPECT_EQ(line.at("free_mb"), 12);
  EXPECT_EQ(line.at("path"), "/var/x");
  EXPECT_TRUE(line.at("ts").is_string());
}

TEST(LogTest, LinesOfConcurrentThreadsStayWhole) {
  testing::TempDir dir("zebros-log-test");
  CapturedStderr captured(dir.path() + "/stderr");
  constexpr int kThreads = 4;
  constexpr int kLinesEach = 2000;
  // Long enough that a torn write would show: ~600 bytes per line.
  const std::string padding(500, 'x');
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &padding] {
      for (int i = 0; i < kLinesEach; ++i) {
        Log(LogLevel::kInfo, "request", {{"thread", t}, {"n", i}, {"padding", padding}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto lines = captured.Lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLinesEach));
  std::set<std::pair<std::int64_t, std::int64_t>> seen;
  for (const auto& text : lines) {
    boost::system::error_code ec;
    const auto parsed = boost::json::parse(text, ec);
    ASSERT_FALSE(ec) << "a torn line: " << text.substr(0, 120);
    const auto& line = parsed.as_object();
    EXPECT_EQ(line.at("padding").as_string(), padding);
    seen.emplace(line.at("thread").as_int64(), line.at("n").as_int64());
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kLinesEach));
}

TEST(LogTest, LinesLoggedSoonAreWrittenWithinTheIntervalWithoutAnotherLine) {
  testing::TempDir dir("zebros-log-test");
  CapturedStderr captured(dir.path() + "/stderr");
  for (int i = 0; i < 3; ++i) LogSoon(LogLevel::kInfo, "request", {{"n", i}});
  LogSoon(LogLevel::kDebug, "dropped below the default level", {});
  std::this_thread::sleep_for(std::chrono::milliseconds(20 * kLogFlushIntervalMs));
  const auto lines = captured.Lines();
  ASSERT_EQ(lines.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(boost::json::parse(lines[static_cast<std::size_t>(i)]).as_object().at("n"), i);
  }
}

TEST(LogTest, ALineLoggedAtOnceComesAfterTheLinesKeptBeforeIt) {
  testing::TempDir dir("zebros-log-test");
  CapturedStderr captured(dir.path() + "/stderr");
  constexpr int kThreads = 4;
  constexpr int kLines = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) {
        LogSoon(LogLevel::kInfo, "request", {{"t", t}, {"i", i}, {"pad", std::string(100, 'x')}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Log(LogLevel::kWarn, "last");  // written now, after everything kept
  const auto lines = captured.Lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines + 1));
  std::vector<int> next(kThreads, 0);
  for (std::size_t n = 0; n + 1 < lines.size(); ++n) {
    const auto line = boost::json::parse(lines[n]).as_object();  // whole lines, not interleaved
    const auto t = static_cast<std::size_t>(line.at("t").as_int64());
    EXPECT_EQ(line.at("i").as_int64(), next[t]++) << "each thread's lines in its order";
  }
  EXPECT_EQ(boost::json::parse(lines.back()).as_object().at("msg"), "last");
}

}  // namespace
}  // namespace zebros::core
