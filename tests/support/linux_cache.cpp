#include "support/linux_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vtlab::test {

namespace {
// KEY=value lines of a fetch-linux VERSION file.
std::string version_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return {};
}
}  // namespace

std::string linux_cache_dir() {
  if (const char* dir = std::getenv("VTLAB_LINUX_CACHE"); dir && *dir) return dir;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/vtlab-linux";
}

std::optional<LinuxKernelFiles> linux_kernel(const std::string& arch, std::string& why) {
  const std::string dir = linux_cache_dir() + "/" + arch;
  LinuxKernelFiles f{dir + "/bzImage", dir + "/initrd.gz", dir + "/System.map", dir + "/config", {}, {}};
  for (const std::string* path : {&f.bzimage, &f.initrd, &f.config}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*path, ec) || std::filesystem::file_size(*path, ec) == 0) {
      why = "no " + *path + ": run scripts/fetch-linux (or set VTLAB_LINUX_CACHE to its --cache directory)";
      return std::nullopt;
    }
  }
  // fetch-linux --no-system-map leaves it out; only the debugger needs it.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(f.system_map, ec)) f.system_map.clear();
  f.kernel_version = version_field(dir + "/VERSION", "kernel_version");
  f.marker = version_field(dir + "/VERSION", "marker");
  if (f.marker.empty()) {
    why = dir + "/VERSION has no marker= line: run scripts/fetch-linux --force";
    return std::nullopt;
  }
  return f;
}

}  // namespace vtlab::test
