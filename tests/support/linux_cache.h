// Test support: the Debian kernels and initramfs images scripts/fetch-linux
// caches, for the tests that boot Linux (suites named Linux*, ctest label
// `linux`). They never download anything: without the cache they skip,
// saying how to make it.
#pragma once

#include <optional>
#include <string>

namespace vtlab::test {

// $VTLAB_LINUX_CACHE, else $HOME/.cache/vtlab-linux (scripts/fetch-linux's default).
std::string linux_cache_dir();

struct LinuxKernelFiles {
  std::string bzimage, initrd, system_map, config;
  std::string kernel_version;  // the Debian package version, e.g. 6.1.176-1
  std::string marker;          // the line the initramfs's /init prints before poweroff
};

// The files for "i386" or "amd64" in linux_cache_dir(); nullopt with `why`
// set (a sentence for GTEST_SKIP) when any is missing:
//   std::string why;
//   const auto files = linux_kernel("amd64", why);
//   if (!files) GTEST_SKIP() << why;
std::optional<LinuxKernelFiles> linux_kernel(const std::string& arch, std::string& why);

}  // namespace vtlab::test
