#include "common/file.h"

#include <fstream>
#include <sstream>

namespace hie {
Error fileError(const std::string& what, const std::string& path, const std::string& why) {
  std::string msg = what + " " + path + ": " + why;
  return Error{ErrorCode::kInvalidInput, msg, msg};
}

Result<std::string> readFile(const std::string& path, const std::string& what) {
  if (path.empty()) return tl::make_unexpected(fileError(what, "(not configured)", "no file name given"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::make_unexpected(fileError(what, path, "cannot be read"));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return tl::make_unexpected(fileError(what, path, "cannot be read"));
  return buf.str();
}

}  // namespace hie
