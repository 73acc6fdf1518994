#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace zebros::core {

// What went wrong, in terms a caller can act on. One function (api/problem.cc) maps a Code to an
// HTTP status; `problem_code` is the stable machine-readable code clients switch on.
enum class Code {
  kBadRequest,            // malformed request: bad JSON, bad filter, bad cursor
  kValidation,            // well-formed but invalid content (field errors)
  kUnauthenticated,       // no or unknown credential
  kForbidden,             // authenticated but not allowed
  kNotFound,              // no such record in the caller's tenant, or no such route
  kMethodNotAllowed,      // route exists, method does not
  kConflict,              // unique value taken, state conflict
  kPreconditionFailed,    // If-Match did not match
  kPayloadTooLarge,       // body over the limit
  kUnsupportedMediaType,  // not application/json
  kTooManyRequests,       // throttled (failed logins, rate limits); retry later
  kUnavailable,           // database unreachable, shutting down
  kInternal,              // a bug or an unexpected failure; details go to logs only
};

// One field's problem inside a validation error.
struct FieldError {
  std::string field;
  std::string code;
  std::string message;
  // Index of the failing operation inside a batch, or -1.
  int index = -1;
};

// An expected failure, carried as a value. `public_message` may reach a client; `detail` is for
// logs only and must never contain secrets or PII.
struct Error {
  Code code = Code::kInternal;
  std::string problem_code;
  std::string public_message;
  std::string detail;
  std::vector<FieldError> field_errors;
};

inline Error MakeError(Code code, std::string problem_code, std::string public_message,
                       std::string detail = {}) {
  return Error{code, std::move(problem_code), std::move(public_message), std::move(detail), {}};
}

// Either a T or an Error. A small stand-in for std::expected (C++23).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // REQUIRES: !ok()
  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, Error> state_;
};

// Success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace zebros::core
