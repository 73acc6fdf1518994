#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "app/environment.h"
#include "domain/builtin_schemas.h"
#include "storage/sql/transfer.h"
#include "storage/sqlite/database.h"

namespace zebros::app {
namespace {

// One line per table, redrawn in place on a terminal; on a pipe (CI logs) a line per tenth.
class ProgressBar {
 public:
  ProgressBar() : terminal_(::isatty(STDERR_FILENO) == 1) {}

  void Show(const storage::sql::TransferProgress& progress) {
    const int percent =
        progress.total == 0 ? 100 : static_cast<int>(progress.copied * 100 / progress.total);
    const bool done = progress.copied >= progress.total;
    if (!terminal_ && !done && (progress.copied == 0 || percent / 10 == last_tenth_)) return;
    table_ = progress.table;
    last_tenth_ = percent / 10;
    constexpr int kWidth = 30;
    const int filled = percent * kWidth / 100;
    std::cerr << (terminal_ ? "\r" : "") << "  " << progress.table
              << std::string(progress.table.size() < 20 ? 20 - progress.table.size() : 1, ' ')
              << "[" << std::string(filled, '#') << std::string(kWidth - filled, ' ') << "] "
              << percent << "%  " << progress.copied << " / " << progress.total << " rows"
              << (terminal_ && !done ? "" : "\n") << std::flush;
  }

 private:
  const bool terminal_;
  std::string table_;
  int last_tenth_ = -1;
};

}  // namespace

int RunTransfer(const std::string& from, const std::string& to, bool resume, int batch_rows) {
  if (!from.starts_with("sqlite:")) {
    std::cerr << "zebros: --from must be sqlite:PATH (a data dir or its zebros.db)\n";
    return 2;
  }
  std::string path = from.substr(std::string_view("sqlite:").size());
  if (std::filesystem::is_directory(path)) path += "/zebros.db";
  if (!std::filesystem::is_regular_file(path)) {
    std::cerr << "zebros: no SQLite database at " << path << "\n";
    return 2;
  }
  if (!to.starts_with("postgres://") && !to.starts_with("postgresql://")) {
    std::cerr << "zebros: --to must be a postgres:// URL\n";
    return 2;
  }
  core::SystemClock clock;
  const auto& types = domain::BuiltinObjectTypes();
  auto source = storage::sqlite::Database::Open(path, types, clock);
  if (!source.ok()) {
    std::cerr << "zebros: cannot open " << path << ": " << source.error().detail << "\n";
    return 1;
  }
  StoreLocation target_location;
  target_location.database_url = to;
  auto target = OpenDatabase(target_location, types, clock);
  if (!target.ok()) {
    std::cerr << "zebros: cannot open the target database: " << target.error().detail << "\n";
    return 1;
  }
  std::cerr << "Copying " << path << " into " << target_location.Describe() << "\n";
  ProgressBar bar;
  storage::sql::TransferOptions options;
  options.resume = resume;
  options.batch_rows = batch_rows;
  auto report = storage::sql::Transfer(
      **source, **target, options,
      [&bar](const storage::sql::TransferProgress& progress) { bar.Show(progress); });
  if (!report.ok()) {
    const auto& error = report.error();
    std::cerr << "zebros: transfer failed: "
              << (error.public_message.empty() ? error.detail : error.public_message) << "\n";
    if (error.code == core::Code::kInternal && error.problem_code != "transfer_mismatch") {
      std::cerr << "  (" << error.detail << ")\n";
    }
    return error.problem_code == "target_not_empty" ? 3 : 1;
  }
  std::int64_t rows = 0;
  for (const auto& table : report->tables) rows += table.target;
  std::cout << "transfer ok: " << rows << " rows in " << report->tables.size()
            << " tables, counts equal on both sides; audit chain ok: " << report->audit_entries
            << " entries\n";
  return 0;
}

}  // namespace zebros::app
