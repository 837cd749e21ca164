// virtio-blk (device ID 2), OASIS virtio 1.1 section 5.2, on the
// virtio-mmio transport, backed by an image file (BlockImage).
//
// One request queue.  Requests: VIRTIO_BLK_T_IN, T_OUT, T_FLUSH (fsync of
// the image) and T_GET_ID (the first 20 bytes of the image's file name,
// zero-padded); any other type answers VIRTIO_BLK_S_UNSUPP.  The capacity
// is the image size in whole 512-byte sectors (a partial last sector is
// not reachable).  A read or write that does not lie wholly below the
// capacity, or whose data length is not a whole number of sectors, answers
// VIRTIO_BLK_S_IOERR and touches nothing.  Features offered: VIRTIO_BLK_F_FLUSH,
// and VIRTIO_BLK_F_RO for a read-only image (writes then answer IOERR).
//
// Writes reach the file while the guest's request is handled (pwrite on
// the image, no host-side cache), so nothing the guest wrote is lost when
// vtlab stops; T_FLUSH makes it durable.  A request with no 16-byte header
// or no status byte is malformed: the device sets DEVICE_NEEDS_RESET.
//
// The used length reported is the data bytes written plus the status byte
// for a successful T_IN or T_GET_ID, and 1 (the status byte) otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "devices/virtio_mmio.h"

namespace vtlab {

// An image file opened for sector I/O.  Unbuffered: each read and write is
// one pread/pwrite on the file.
class BlockImage {
 public:
  static constexpr uint64_t kSectorSize = 512;
  // Throws LoadError with one line for the CLI: "PATH: cannot open: <why>"
  // or "PATH: not a regular file".
  BlockImage(const std::string& path, bool read_only);
  ~BlockImage();
  BlockImage(BlockImage&& other) noexcept;
  BlockImage(const BlockImage&) = delete;
  BlockImage& operator=(const BlockImage&) = delete;
  BlockImage& operator=(BlockImage&&) = delete;

  uint64_t sectors() const { return sectors_; }
  bool read_only() const { return read_only_; }
  const std::string& path() const { return path_; }
  // Whole transfers only: false when any byte could not be moved.
  bool read(uint64_t offset, void* dst, uint64_t len);
  bool write(uint64_t offset, const void* src, uint64_t len);
  bool flush();

 private:
  std::string path_;
  int fd_ = -1;
  bool read_only_ = false;
  uint64_t sectors_ = 0;
};

class VirtioBlk : public VirtioMmioDevice {
 public:
  static constexpr uint32_t kDeviceId = 2;
  static constexpr uint16_t kQueueNumMax = 256;
  static constexpr uint64_t kFeatureRo = uint64_t{1} << 5, kFeatureFlush = uint64_t{1} << 9;
  enum RequestType : uint32_t { kIn = 0, kOut = 1, kFlush = 4, kGetId = 8 };
  enum RequestStatus : uint8_t { kOk = 0, kIoErr = 1, kUnsupp = 2 };
  static constexpr uint64_t kIdBytes = 20;
  static constexpr uint64_t kHeaderBytes = 16;
  // capacity (le64) and the fields after it up to blk_size, all 0 but capacity.
  static constexpr uint64_t kConfigSize = 24;

  VirtioBlk(PhysicalMemory& mem, std::function<void(bool)> irq, BlockImage image);

  std::string_view name() const override { return "virtio-blk"; }
  const BlockImage& image() const { return image_; }

 protected:
  uint8_t config_read(uint64_t offset) override;
  uint64_t config_size() const override { return kConfigSize; }
  void queue_notified(unsigned q) override;

 private:
  // One request: false when it is malformed; `used` gets the used length.
  bool handle(const VirtqChain& chain, uint32_t& used);
  uint8_t transfer_in(const VirtqChain& chain, uint64_t sector, uint64_t len);
  uint8_t transfer_out(const VirtqChain& chain, uint64_t sector, uint64_t len);
  bool in_range(uint64_t sector, uint64_t len) const;

  // Transfers go through a bounce buffer of at most this size.
  static constexpr uint64_t kChunkBytes = 64 * 1024;

  BlockImage image_;
  std::array<uint8_t, kIdBytes> id_{};
};

}  // namespace vtlab
