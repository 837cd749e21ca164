// The kernel's own counters for a VM or vCPU, read through the binary
// statistics file descriptor (KVM_GET_STATS_FD; Documentation/virt/kvm/
// api.rst, "KVM_GET_STATS_FD"): a header, one descriptor per statistic
// (name, type, size, offset), and the data block, re-read on demand.
// Only cumulative and instant single-value statistics are kept (the
// histograms are left out).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vtlab {

class KvmStats {
 public:
  KvmStats() = default;
  ~KvmStats();
  KvmStats(const KvmStats&) = delete;
  KvmStats& operator=(const KvmStats&) = delete;

  // `object_fd`: a VM or vCPU descriptor.  False (why() says why) when the
  // host has no binary stats or the descriptors do not parse.
  bool open(int object_fd);
  bool ready() const { return fd_ >= 0; }
  // Every kept statistic with its current value, in the kernel's order.
  std::vector<std::pair<std::string, uint64_t>> read() const;
  // One statistic by name; 0 when absent.
  uint64_t value(const std::string& name) const;
  const std::string& why() const { return why_; }

 private:
  struct Stat {
    std::string name;
    uint32_t offset;
  };
  int fd_ = -1;
  uint64_t data_offset_ = 0;
  std::vector<Stat> stats_;
  std::string why_;
};

}  // namespace vtlab
