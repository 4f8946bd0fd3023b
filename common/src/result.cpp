#include "holomush/common/result.hpp"

namespace holomush::common {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kUnavailable:
      return "unavailable";
    case ErrorKind::kInvalid:
      return "invalid";
    case ErrorKind::kInternal:
      return "internal";
    case ErrorKind::kPermissionDenied:
      return "permission denied";
  }
  return "internal";
}

}  // namespace holomush::common
