// Reading a whole file: the one place that does it.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"

namespace hie {

// The file's bytes. kInvalidInput "<what> <path>: cannot be read" (or
// "(not configured)" for an empty path), external message the same: the
// operator named the file.
Result<std::string> readFile(const std::string& path, const std::string& what);

// Writes content to dir/name with exactly mode (umask ignored); returns the
// path. kUnavailable naming the path and the failed call otherwise.
Result<std::string> writeFileWithMode(const std::string& dir, const std::string& name, const std::string& content,
                                      mode_t mode);

// kInvalidInput "<what> <path>: <why>", for errors about a file's content.
Error fileError(const std::string& what, const std::string& path, const std::string& why);

}  // namespace hie
