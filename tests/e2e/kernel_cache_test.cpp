// The locator the Linux* tests use for scripts/fetch-linux's cache: it
// finds the files by VTLAB_LINUX_CACHE or the default, and says how to make
// the cache when it is missing (the tests then skip; they never download).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/linux_cache.h"

namespace vtlab::test {

namespace {
// Sets VTLAB_LINUX_CACHE for one test and puts the old value back.
class CacheEnv {
 public:
  explicit CacheEnv(const std::string& dir) {
    if (const char* old = std::getenv("VTLAB_LINUX_CACHE")) old_ = old;
    setenv("VTLAB_LINUX_CACHE", dir.c_str(), 1);
  }
  ~CacheEnv() {
    if (old_) setenv("VTLAB_LINUX_CACHE", old_->c_str(), 1);
    else unsetenv("VTLAB_LINUX_CACHE");
  }

 private:
  std::optional<std::string> old_;
};
}  // namespace

TEST(KernelCache, DefaultIsUnderHome) {
  CacheEnv env("");
  const char* home = std::getenv("HOME");
  ASSERT_NE(home, nullptr);
  EXPECT_EQ(linux_cache_dir(), std::string(home) + "/.cache/vtlab-linux");
}

TEST(KernelCache, MissingCacheSaysHowToMakeIt) {
  const std::string dir = ::testing::TempDir() + "/vtlab-no-linux-cache";
  std::filesystem::remove_all(dir);
  CacheEnv env(dir);
  std::string why;
  EXPECT_EQ(linux_kernel("i386", why), std::nullopt);
  EXPECT_EQ(why, "no " + dir + "/i386/bzImage: run scripts/fetch-linux (or set VTLAB_LINUX_CACHE to its --cache directory)");
}

TEST(KernelCache, FindsFetchLinuxLayout) {
  const std::string dir = ::testing::TempDir() + "/vtlab-fake-linux-cache";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/amd64");
  for (const char* name : {"bzImage", "initrd.gz", "config"}) std::ofstream(dir + "/amd64/" + name) << "x";
  std::ofstream(dir + "/amd64/VERSION") << "arch=amd64\nkernel_version=6.1.176-1\nmarker=vtlab: linux userland reached\n";
  CacheEnv env(dir);
  std::string why;
  const std::optional<LinuxKernelFiles> f = linux_kernel("amd64", why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->bzimage, dir + "/amd64/bzImage");
  EXPECT_EQ(f->initrd, dir + "/amd64/initrd.gz");
  EXPECT_EQ(f->system_map, "");  // fetched with --no-system-map
  EXPECT_EQ(f->kernel_version, "6.1.176-1");
  EXPECT_EQ(f->marker, "vtlab: linux userland reached");
  std::ofstream(dir + "/amd64/System.map") << "ffffffff81000000 T startup_64\n";
  EXPECT_EQ(linux_kernel("amd64", why)->system_map, dir + "/amd64/System.map");
}

}  // namespace vtlab::test
