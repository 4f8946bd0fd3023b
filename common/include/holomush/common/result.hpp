// Result<T>: the value or the error of a request or reconcile path (no exceptions there).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace holomush::common {

enum class ErrorKind { kNotFound, kConflict, kUnavailable, kInvalid, kInternal, kPermissionDenied };

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
};

const char* ErrorKindName(ErrorKind kind);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(data_); }
  const T& value() const { return std::get<T>(data_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// Result of an operation that yields nothing but can fail.
struct Ok {};
using Status = Result<Ok>;

inline Error MakeError(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

}  // namespace holomush::common
