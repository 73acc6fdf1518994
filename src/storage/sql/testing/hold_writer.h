#pragma once

#include <future>
#include <memory>

#include "storage/sql/engine.h"

namespace zebros::storage::sql::testing {

// Occupies the engine's write worker (a single one) until the returned promise is set, so that
// writes submitted meanwhile queue up and commit as one group. Returns once the worker holds.
inline std::promise<void> HoldTheWriter(Engine& engine) {
  std::promise<void> release;
  auto released = release.get_future().share();
  auto started = std::make_shared<std::promise<void>>();
  auto running = started->get_future();
  engine.Submit(
      [released, started](Session&) -> core::Status {
        started->set_value();
        released.wait();
        return core::OkStatus();
      },
      [](core::Status) {});
  running.wait();
  return release;
}

}  // namespace zebros::storage::sql::testing
