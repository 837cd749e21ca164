// The virtio devices as wired into the PC (devices/virtio_slots.h,
// docs/VIRTIO.md): a guest program drives virtio-console at 0xFEB00200
// with plain MOVs and its bytes reach the serial sink, IRQ 6 reaches the
// PIC; virtio-blk answers at 0xFEB00000 on IRQ 5 and writes its image.
#include "devices/virtio_slots.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "core/loader/flat.h"
#include "core/loader/load_error.h"
#include "core/machine.h"
#include "devices/pic8259.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_console.h"
#include "support/assemble.h"
#include "tests/devices/virtio_test_driver.h"

namespace vtlab {
namespace {

using namespace testing_virtio;

TEST(VirtioMachineTest, NoVirtioOptionsLeaveTheSlotsUnclaimed) {
  Machine m(MachineConfig{});
  EXPECT_EQ(m.virtio().blk(), nullptr);
  EXPECT_EQ(m.virtio().console(), nullptr);
  EXPECT_EQ(m.memory().read(VirtioDevices::slot_base(0), 4), 0xFFFFFFFFu);
  EXPECT_EQ(m.memory().read(VirtioDevices::slot_base(1), 4), 0xFFFFFFFFu);
}

TEST(VirtioMachineTest, GuestTransmitsOnTheConsoleAndRaisesIrq6) {
  MachineConfig cfg;
  cfg.virtio.console = true;
  std::string sink;
  cfg.serial_out = [&](uint8_t b) { sink.push_back(static_cast<char>(b)); };
  Machine m(cfg);
  ASSERT_NE(m.virtio().console(), nullptr);
  const std::string text = "hello from virtio\n";
  ASSERT_TRUE(m.memory().write_bytes(0x23000, text.data(), text.size()));
  const auto code = test::assemble(R"(
    mov esi, 0xFEB00200
    mov dword ptr [esi+0x70], 0          # reset
    mov dword ptr [esi+0x70], 1          # ACKNOWLEDGE
    mov dword ptr [esi+0x70], 3          # DRIVER
    mov dword ptr [esi+0x24], 1          # DriverFeaturesSel = 1
    mov dword ptr [esi+0x20], 1          # VIRTIO_F_VERSION_1
    mov dword ptr [esi+0x70], 11         # FEATURES_OK
    mov dword ptr [esi+0x30], 1          # QueueSel = transmitq
    mov dword ptr [esi+0x38], 4          # QueueNum
    mov dword ptr [esi+0x80], 0x20000    # QueueDescLow
    mov dword ptr [esi+0x90], 0x21000    # QueueDriverLow
    mov dword ptr [esi+0xa0], 0x22000    # QueueDeviceLow
    mov dword ptr [esi+0x44], 1          # QueueReady
    mov dword ptr [esi+0x70], 15         # DRIVER_OK
    mov dword ptr [0x20000], 0x23000     # descriptor 0: addr
    mov dword ptr [0x20004], 0
    mov dword ptr [0x20008], 18          #   len
    mov dword ptr [0x2000c], 0           #   flags, next
    mov word ptr [0x21004], 0            # avail.ring[0] = 0
    mov word ptr [0x21002], 1            # avail.idx = 1
    mov dword ptr [esi+0x50], 1          # QueueNotify
    mov eax, [esi+0x60]                  # InterruptStatus
    movzx ebx, word ptr [0x22002]        # used.idx
    hlt
  )");
  load_flat(code, 0x1000, m.memory(), m.cpu().s);
  const RunResult r = m.run(1000);
  EXPECT_EQ(r.reason, StopReason::Halted) << r.detail;
  EXPECT_EQ(sink, text);
  EXPECT_EQ(m.serial_transcript(), text);
  EXPECT_EQ(m.cpu().s.gpr[0] & 0xFFFFFFFF, 1u);  // used-buffer interrupt pending
  EXPECT_EQ(m.cpu().s.gpr[3] & 0xFFFFFFFF, 1u);
  EXPECT_EQ(m.pic().irr(DualPic::kMaster), 1u << 6);
}

TEST(VirtioMachineTest, BlockDeviceAtSlotZeroOnIrq5WritesItsImage) {
  const std::string path = ::testing::TempDir() + "/vtlab-virtio-machine.img";
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << std::string(4 * 512, '.');
  }
  MachineConfig cfg;
  cfg.virtio.drive = path;
  Machine m(cfg);
  ASSERT_NE(m.virtio().blk(), nullptr);
  PhysicalMemory& mem = m.memory();
  VirtioTestDriver drv(mem);  // kWindowBase is slot 0
  EXPECT_EQ(drv.rd(V::kDeviceId), VirtioBlk::kDeviceId);
  EXPECT_EQ(mem.read(kWindowBase + V::kConfig, 8), 4u);
  TestQueue q;
  drv.bring_up({&q});
  mem.write(kBufferArea, 4, VirtioBlk::kOut);
  mem.write(kBufferArea + 8, 8, 2);
  drv.put(kBufferArea + 0x1000, std::string(512, 'G'));
  drv.set_desc(q, 0, kBufferArea, 16, Virtqueue::kDescFlagNext, 1);
  drv.set_desc(q, 1, kBufferArea + 0x1000, 512, Virtqueue::kDescFlagNext, 2);
  drv.set_desc(q, 2, kBufferArea + 0x2000, 1, Virtqueue::kDescFlagWrite);
  drv.make_available(q, 0);
  drv.notify(q);
  EXPECT_EQ(mem.read(kBufferArea + 0x2000, 1), VirtioBlk::kOk);
  EXPECT_EQ(m.pic().irr(DualPic::kMaster), 1u << 5);
  std::ifstream f(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(f)), {});
  EXPECT_EQ(bytes, std::string(2 * 512, '.') + std::string(512, 'G') + std::string(512, '.'));
  std::remove(path.c_str());
}

TEST(VirtioMachineTest, AMissingImageIsOneLoadErrorLine) {
  MachineConfig cfg;
  cfg.virtio.drive = "/nonexistent/disk.img";
  try {
    Machine m(cfg);
    FAIL() << "built a machine on a missing image";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/disk.img: cannot open: No such file or directory");
  }
}

}  // namespace
}  // namespace vtlab
