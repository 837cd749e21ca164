#include "core/kvm/kvm_stats.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vtlab {

namespace {
// struct kvm_stats_desc without its flexible name array, which g++ sizes
// differently from C (see kvm_vm.h): the name follows these 16 bytes.
struct StatsDesc {
  uint32_t flags;
  int16_t exponent;
  uint16_t size;
  uint32_t offset;
  uint32_t bucket_size;
};
static_assert(sizeof(StatsDesc) == 16);
}  // namespace

KvmStats::~KvmStats() {
  if (fd_ >= 0) close(fd_);
}

bool KvmStats::open(int object_fd) {
  const int fd = ioctl(object_fd, KVM_GET_STATS_FD, nullptr);
  if (fd < 0) {
    why_ = std::string("KVM_GET_STATS_FD: ") + std::strerror(errno);
    return false;
  }
  kvm_stats_header h{};
  if (pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h) || h.num_desc > 4096 || h.name_size > 4096) {
    close(fd);
    why_ = "KVM_GET_STATS_FD: the statistics header does not parse";
    return false;
  }
  const size_t desc_size = sizeof(StatsDesc) + h.name_size;
  std::vector<char> descs(desc_size * h.num_desc);
  if (pread(fd, descs.data(), descs.size(), h.desc_offset) != static_cast<ssize_t>(descs.size())) {
    close(fd);
    why_ = "KVM_GET_STATS_FD: cannot read the statistics descriptors";
    return false;
  }
  for (uint32_t i = 0; i < h.num_desc; ++i) {
    StatsDesc d;
    std::memcpy(&d, descs.data() + i * desc_size, sizeof d);
    const char* name = descs.data() + i * desc_size + sizeof d;
    const uint32_t type = d.flags & KVM_STATS_TYPE_MASK;
    if (d.size != 1 || (type != KVM_STATS_TYPE_CUMULATIVE && type != KVM_STATS_TYPE_INSTANT &&
                         type != KVM_STATS_TYPE_PEAK))
      continue;
    stats_.push_back(Stat{std::string(name, strnlen(name, h.name_size)), d.offset});
  }
  fd_ = fd;
  data_offset_ = h.data_offset;
  return true;
}

std::vector<std::pair<std::string, uint64_t>> KvmStats::read() const {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const Stat& s : stats_) {
    uint64_t v = 0;
    if (pread(fd_, &v, sizeof v, static_cast<off_t>(data_offset_ + s.offset)) != static_cast<ssize_t>(sizeof v)) v = 0;
    out.emplace_back(s.name, v);
  }
  return out;
}

uint64_t KvmStats::value(const std::string& name) const {
  for (const Stat& s : stats_) {
    if (s.name != name) continue;
    uint64_t v = 0;
    if (pread(fd_, &v, sizeof v, static_cast<off_t>(data_offset_ + s.offset)) == static_cast<ssize_t>(sizeof v))
      return v;
  }
  return 0;
}

}  // namespace vtlab
