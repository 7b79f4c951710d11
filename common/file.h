// Reading a whole file: the one place that does it.
#pragma once

#include <string>

#include "common/result.h"

namespace hie {

// The file's bytes. kInvalidInput "<what> <path>: cannot be read" (or
// "(not configured)" for an empty path), external message the same: the
// operator named the file.
Result<std::string> readFile(const std::string& path, const std::string& what);

// kInvalidInput "<what> <path>: <why>", for errors about a file's content.
Error fileError(const std::string& what, const std::string& path, const std::string& why);

}  // namespace hie
