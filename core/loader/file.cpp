#include "core/loader/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/loader/load_error.h"

namespace vtlab {

namespace {

// Closes the descriptor on every exit path.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail_errno(const std::string& path, const char* what, int err) {
  throw LoadError(fmt::format("{}: {}: {}", path, what, std::strerror(err)));
}

}  // namespace

std::vector<uint8_t> read_file(const std::string& path) {
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) fail_errno(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) fail_errno(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) throw LoadError(fmt::format("{}: is a directory", path));

  // Read until EOF rather than trusting st_size: pipes and /dev/fd/N report 0.
  std::vector<uint8_t> data;
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) <= kMaxImageSize)
    data.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(path, "cannot read", errno);
    }
    if (n == 0) break;
    if (data.size() + static_cast<size_t>(n) > kMaxImageSize)
      throw LoadError(fmt::format("{}: too large (more than {} MiB)", path, kMaxImageSize >> 20));
    data.insert(data.end(), buf, buf + n);
  }
  if (data.empty()) throw LoadError(fmt::format("{}: empty file", path));
  return data;
}

}  // namespace vtlab
