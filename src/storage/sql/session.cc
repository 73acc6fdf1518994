#include "storage/sql/session.h"

namespace zebros::storage::sql {

core::Status Session::RunOrDefer(DeferredWrite write) {
  if (deferring_) {
    // The memo follows the transaction in program order: a kept BEGIN starts it now.
    if (write.params.empty()) NoteControlStatement(write.sql);
    deferred_.push_back(std::move(write));
    return core::OkStatus();
  }
  return Run(write);
}

core::Status Session::RunDeferred() {
  for (const auto& write : TakeDeferred()) {
    auto status = Run(write);
    if (!status.ok()) {
      NoteDeferredFailure();
      return status;
    }
  }
  return core::OkStatus();
}

core::Status Session::RunEndWork() {
  std::vector<EndWork> work;
  work.swap(end_work_);
  for (auto& piece : work) {
    auto status = piece(*this);
    if (!status.ok()) return status;
  }
  return core::OkStatus();
}

core::Status Session::Run(const DeferredWrite& write) {
  if (write.params.empty()) return Exec(write.sql);
  auto stmt = Prepare(write.sql);
  if (!stmt.ok()) return std::move(stmt).error();
  int index = 1;
  for (const auto& param : write.params) {
    if (const auto* number = std::get_if<std::int64_t>(&param)) {
      stmt->BindInt(index++, *number);
    } else {
      stmt->BindText(index++, std::get<std::string>(param));
    }
  }
  auto done = stmt->Step();
  if (!done.ok()) return std::move(done).error();
  return core::OkStatus();
}

}  // namespace zebros::storage::sql
