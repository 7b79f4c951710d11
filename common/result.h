// Expected failures as values: a code, a message for logs and one safe for the peer.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace hie {

enum class ErrorCode {
  kInvalidInput,
  kUnauthenticated,
  kForbidden,
  kNotFound,
  kConflict,
  kUnavailable,
  kInternal,
};

// `internal` goes to logs only; `external` may be shown to a peer or operator
// and never carries patient data.
struct Error {
  ErrorCode code;
  std::string internal;
  std::string external;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string internal, std::string external) {
  return tl::make_unexpected(Error{code, std::move(internal), std::move(external)});
}

// For operator-facing failures where the log and the message are the same sentence.
inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  std::string copy = message;
  return tl::make_unexpected(Error{code, std::move(message), std::move(copy)});
}

const char* errorCodeName(ErrorCode code);

}  // namespace hie
