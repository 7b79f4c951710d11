#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

Result<std::string> writeFileWithMode(const std::string& dir, const std::string& name,
                                      const std::string& content, mode_t mode) {
  const std::string path = dir + "/" + name;
  auto failure = [&](const char* op) {
    return fail(ErrorCode::kUnavailable, "writeFile " + path + ": " + op + ": " + std::strerror(errno));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return failure("open");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fchmod(fd, mode) != 0) return failure("fchmod");
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure("write");
    }
    done += static_cast<size_t>(n);
  }
  return path;
}

}  // namespace hie
