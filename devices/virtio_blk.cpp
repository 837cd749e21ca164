// virtio 1.1 section 5.2: virtio-blk's feature bits (5.2.3), configuration
// layout (5.2.4) and request format and handling (5.2.6, 5.2.6.1-2).
#include "devices/virtio_blk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/loader/load_error.h"

namespace vtlab {

BlockImage::BlockImage(const std::string& path, bool read_only) : path_(path), read_only_(read_only) {
  fd_ = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd_ < 0) throw LoadError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw LoadError(path + ": not a regular file");
  }
  sectors_ = static_cast<uint64_t>(st.st_size) / kSectorSize;
}

BlockImage::BlockImage(BlockImage&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), read_only_(other.read_only_), sectors_(other.sectors_) {
  other.fd_ = -1;
}

BlockImage::~BlockImage() {
  if (fd_ >= 0) ::close(fd_);
}

bool BlockImage::read(uint64_t offset, void* dst, uint64_t len) {
  auto* out = static_cast<uint8_t*>(dst);
  while (len) {
    const ssize_t n = ::pread(fd_, out, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // an error, or the file shrank under us
    out += n;
    offset += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

bool BlockImage::write(uint64_t offset, const void* src, uint64_t len) {
  if (read_only_) return false;
  const auto* in = static_cast<const uint8_t*>(src);
  while (len) {
    const ssize_t n = ::pwrite(fd_, in, len, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    in += n;
    offset += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

bool BlockImage::flush() {
  int r;
  do r = ::fsync(fd_);
  while (r != 0 && errno == EINTR);
  return r == 0;
}

VirtioBlk::VirtioBlk(PhysicalMemory& mem, std::function<void(bool)> irq, BlockImage image)
    : VirtioMmioDevice(mem, std::move(irq), kDeviceId, kFeatureFlush | (image.read_only() ? kFeatureRo : 0), 1,
                       kQueueNumMax),
      image_(std::move(image)) {
  const std::string& path = image_.path();
  const size_t slash = path.find_last_of('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::memcpy(id_.data(), base.data(), std::min<size_t>(base.size(), kIdBytes));
}

uint8_t VirtioBlk::config_read(uint64_t offset) {
  return offset < 8 ? static_cast<uint8_t>(image_.sectors() >> (8 * offset)) : 0;
}

void VirtioBlk::queue_notified(unsigned) {
  VirtqChain chain;
  while (pop(0, chain)) {
    uint32_t used = 0;
    if (!handle(chain, used)) return;
    push_used(0, chain, used);
  }
}

bool VirtioBlk::handle(const VirtqChain& chain, uint32_t& used) {
  // struct virtio_blk_req: le32 type, le32 reserved, le64 sector; data; u8 status.
  if (chain.readable_bytes < kHeaderBytes || chain.writable_bytes < 1) {
    needs_reset(VirtioError::kMissingBuffer);
    return false;
  }
  uint8_t header[kHeaderBytes];
  chain.read(mem_, 0, header, kHeaderBytes);
  uint32_t type;
  uint64_t sector;
  std::memcpy(&type, header, 4);
  std::memcpy(&sector, header + 8, 8);
  const uint64_t status_at = chain.writable_bytes - 1;
  uint8_t status = kOk;
  used = 1;
  switch (type) {
    case kIn:
      status = transfer_in(chain, sector, status_at);
      if (status == kOk) used = static_cast<uint32_t>(status_at + 1);
      break;
    case kOut:
      status = transfer_out(chain, sector, chain.readable_bytes - kHeaderBytes);
      break;
    case kFlush:
      status = image_.flush() ? kOk : kIoErr;
      break;
    case kGetId: {
      const uint64_t n = std::min(kIdBytes, status_at);
      chain.write(mem_, 0, id_.data(), n);
      used = static_cast<uint32_t>(n + 1);
      break;
    }
    default:
      status = kUnsupp;
      break;
  }
  chain.write(mem_, status_at, &status, 1);
  return true;
}

bool VirtioBlk::in_range(uint64_t sector, uint64_t len) const {
  const uint64_t n = image_.sectors();
  return len % BlockImage::kSectorSize == 0 && sector <= n && len / BlockImage::kSectorSize <= n - sector;
}

uint8_t VirtioBlk::transfer_in(const VirtqChain& chain, uint64_t sector, uint64_t len) {
  if (!in_range(sector, len)) return kIoErr;
  std::vector<uint8_t> chunk(std::min(len, kChunkBytes));
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min<uint64_t>(chunk.size(), len - done);
    if (!image_.read(sector * BlockImage::kSectorSize + done, chunk.data(), n)) return kIoErr;
    chain.write(mem_, done, chunk.data(), n);
    done += n;
  }
  return kOk;
}

uint8_t VirtioBlk::transfer_out(const VirtqChain& chain, uint64_t sector, uint64_t len) {
  if (image_.read_only() || !in_range(sector, len)) return kIoErr;
  std::vector<uint8_t> chunk(std::min(len, kChunkBytes));
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min<uint64_t>(chunk.size(), len - done);
    chain.read(mem_, kHeaderBytes + done, chunk.data(), n);
    if (!image_.write(sector * BlockImage::kSectorSize + done, chunk.data(), n)) return kIoErr;
    done += n;
  }
  return kOk;
}

}  // namespace vtlab
