// samples/minios's virtio driver (samples/minios/virtio.c) in every mode:
// minios-virtio (minios built with the driver) boots with a virtio-console
// and a virtio-blk disk on a temporary image (docs/VIRTIO.md) and prints
// the same four lines under native, trap, bt and hw, and minios-pv-virtio
// under pv (which lets it map the virtio page, docs/HYPERCALLS.md); the
// sector it wrote is in the image file afterwards.  Under trap, bt and hw
// every register access is an MMIO exit (the slots are never mapped
// through); the counts are exact because virtual time makes runs repeatable.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "privilege/pv_abi.h"
#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {

namespace {
constexpr uint64_t kBudget = 100'000'000;
constexpr size_t kImageBytes = 64 * 1024;  // 128 sectors
const std::string kSector0Start = "VTLABDISK sector";
const std::string kPattern = "minios wrote this sector through virtio-blk";

const std::string kVirtioLines =
    "virtio: slot 0xfeb00000: virtio-blk, 128 sectors, VERSION_1, one queue of 4, DRIVER_OK\n"
    "virtio: slot 0xfeb00200: virtio-console, VERSION_1, transmitq of 4, DRIVER_OK; these lines go through it\n"
    "virtio-blk: read sector 0 (status 0): 56 54 4c 41 42 44 49 53 4b 20 73 65 63 74 6f 72 \"VTLABDISK sector\"\n"
    "virtio-blk: wrote sector 1 (status 0), read it back (status 0): \"minios wrote this sector through "
    "virtio-blk\", the same\n";

// A disk image whose sector 0 starts with kSector0Start, removed at the end.
class TempImage {
 public:
  TempImage() {
    char path[] = "/tmp/vtlab-minios-virtio-XXXXXX";
    const int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    path_ = path;
    std::string bytes(kImageBytes, '\0');
    bytes.replace(0, kSector0Start.size(), kSector0Start);
    std::ofstream(path_, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  ~TempImage() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }
  std::string sector(size_t n) const {
    const std::string all = read_text_file(path_);
    return all.size() >= (n + 1) * 512 ? all.substr(n * 512, 512) : std::string();
  }

 private:
  std::string path_;
};

// The transcript of the default run with `lines` after its eighth line,
// the one that says paging is on (both builds): the driver runs then,
// before the timer starts.
std::string with_lines_after_paging(const std::string& transcript, const std::string& lines) {
  size_t at = 0;
  for (int i = 0; i < 8 && at != std::string::npos; ++i) at = transcript.find('\n', at) + 1;
  return transcript.substr(0, at) + lines + transcript.substr(at);
}

BootOutcome boot_with_devices(const std::string& elf, const std::string& mode, const TempImage& image,
                              bool devices = true) {
  return boot_kernel(sample_binary(elf), "", kBudget, 128ull << 20, mode, [&](MachineConfig& c) {
    if (!devices) return;
    c.virtio.drive = image.path();
    c.virtio.console = true;
  });
}

std::string expected_sector1() {
  std::string s(512, '\0');
  return s.replace(0, kPattern.size(), kPattern);
}

// Every register access of the driver is one MMIO exit: per device 27 for
// the handshake and queue setup (3 probe reads, 3 status writes, 2 for the
// device's features, 4 for the driver's, FEATURES_OK written and read back,
// 3 queue checks, 9 queue writes and the read-back, DRIVER_OK), 3 per
// request (QueueNotify, InterruptStatus, InterruptACK) for 4 console lines
// and 3 block requests, and the capacity read: 2*27 + 7*3 + 1.  Natively
// there is no monitor; under pv the guest maps the slot page and its
// accesses go to the devices without an exit.
constexpr uint64_t kRegisterAccesses = 76;

struct ModeCase {
  const char* mode;
  const char* elf;
  const char* expected;  // the default transcript
  uint64_t mmio_exits;
  uint64_t exit_total;  // the default run's, plus the driver's
};

class MiniOsVirtio : public ::testing::TestWithParam<ModeCase> {};

TEST_P(MiniOsVirtio, PrintsTheDriverLinesAndTheSectorIsInTheFile) {
  const ModeCase& c = GetParam();
  TempImage image;
  const BootOutcome o = boot_with_devices(c.elf, c.mode, image);
  EXPECT_EQ(o.serial, with_lines_after_paging(read_text_file(sample_source(c.expected)), kVirtioLines));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
  EXPECT_EQ(image.sector(1), expected_sector1());
  EXPECT_EQ(image.sector(0).substr(0, kSector0Start.size()), kSector0Start);  // read, not written
  EXPECT_EQ(o.exit_count(ExitReason::Mmio), c.mmio_exits);
  EXPECT_EQ(o.exit_total, c.exit_total);
}

INSTANTIATE_TEST_SUITE_P(
    AllModes, MiniOsVirtio,
    ::testing::Values(ModeCase{"native", "minios-virtio.elf", "minios/expected.txt", 0, 0},
                      ModeCase{"trap", "minios-virtio.elf", "minios/expected.txt", kRegisterAccesses, 11'967},
                      ModeCase{"bt", "minios-virtio.elf", "minios/expected.txt", kRegisterAccesses, 12'840},
                      // 7,786 for minios (tests/e2e/hw_sim_test.cpp) + 76
                      ModeCase{"hw", "minios-virtio.elf", "minios/expected.txt", kRegisterAccesses, 7'862},
                      // 271 for minios-pv (tests/e2e/pv_minios_test.cpp) + the 3 hypercalls that map the
                      // slot page (mmu_update, pin, mmu_update)
                      ModeCase{"pv", "minios-pv-virtio.elf", "minios/expected-pv.txt", 0, 274}),
    [](const ::testing::TestParamInfo<ModeCase>& i) { return std::string(i.param.mode); });

// No devices: two lines say so (on COM1),
// everything else is the default transcript, and no slot is written.
TEST(MiniOsVirtioAbsent, SaysNoDevicesAndRunsAsUsual) {
  TempImage unused;
  const BootOutcome o = boot_with_devices("minios-virtio.elf", "native", unused, false);
  EXPECT_EQ(o.serial, with_lines_after_paging(read_text_file(sample_source("minios/expected.txt")),
                                             "virtio: slot 0xfeb00000: no virtio-blk\n"
                                             "virtio: slot 0xfeb00200: no virtio-console; these lines go to COM1\n"));
  ASSERT_EQ(o.result.reason, StopReason::GuestExit) << o.result.detail;
  EXPECT_EQ(o.result.guest_status, 67u);
}

// The pv rule minios-pv-virtio relies on (docs/HYPERCALLS.md): a PV page
// table may map the virtio slot page, and no other page outside RAM; the
// slot page is never a page table.  A small ring-1 program pins a table
// mapping it, reads the console's MagicValue through it, and is refused
// the page after it.
TEST(PvVirtioPage, OnlyTheSlotPageMapsAndItIsNeverATable) {
  constexpr uint32_t kCode = 0x1000, kResults = 0x8000, kArgs = 0x9000, kDir = 0x10000, kTable = 0x11000,
                     kDevTable = 0x13000, kBadTable = 0x14000, kSlots = 0xFEB00000;
  MachineConfig cfg;
  cfg.ram_bytes = 4ull << 20;
  cfg.mode = "pv";
  cfg.virtio.console = true;
  Machine m(cfg);
  set_flat_protected_mode(m.cpu().s);
  m.cpu().s.rip = kCode;
  const auto put = [&](uint32_t addr, uint32_t v) { m.memory().write(addr, 4, v); };
  // Identity for the first 1 MiB, the three tables and the directory read-only.
  for (uint32_t i = 1; i < 256; ++i) put(kTable + i * 4, (i << 12) | 3);
  for (uint32_t t : {kDir, kTable, kDevTable, kBadTable}) put(kTable + (t >> 12) * 4, t | 1);
  const uint32_t slot_pte = kDevTable + ((kSlots >> 12) & 0x3FF) * 4;
  put(slot_pte, kSlots | 3);
  put(kBadTable + ((kSlots >> 12) & 0x3FF) * 4 + 4, (kSlots + 0x1000) | 1);  // the page after it
  put(kDir, kTable | 3);
  put(kDir + (kSlots >> 22) * 4, kDevTable | 3);
  const uint32_t ops[] = {pv::kPinL1, kTable, pv::kPinL1, kDevTable, pv::kPinL2, kDir, pv::kNewBaseptr, kDir,
                          pv::kPinL1, kBadTable, pv::kPinL1, kSlots};
  for (uint32_t i = 0; i < 12; ++i) put(kArgs + i * 4, ops[i]);
  put(kArgs + 0x100, slot_pte + 4);  // mmu_update: the next PTE to the page after the slots
  put(kArgs + 0x104, (kSlots + 0x1000) | 3);
  put(kArgs + 0x108, slot_pte);  // ... and the slot page again, read-only
  put(kArgs + 0x10C, kSlots | 1);
  struct Call {
    uint32_t nr, ebx, ecx;
  };
  const Call calls[] = {{pv::kMmuExtOp, kArgs, 4},         {pv::kMmuExtOp, kArgs + 32, 1},
                        {pv::kMmuExtOp, kArgs + 40, 1},    {pv::kMmuUpdate, kArgs + 0x100, 1},
                        {pv::kMmuUpdate, kArgs + 0x108, 1}};
  std::string src;
  for (uint32_t i = 0; i < 5; ++i)
    src += fmt::format("mov eax, {}\nmov ebx, {}\nmov ecx, {}\nint 0x82\nmov [{}], eax\n", calls[i].nr, calls[i].ebx,
                       calls[i].ecx, kResults + 4 * i);
  src += fmt::format("mov eax, [{}]\nmov [{}], eax\n", kSlots + 0x200, kResults + 20);  // MagicValue
  src += fmt::format("mov eax, {}\nmov ebx, 0x21\nint 0x82\n", static_cast<uint32_t>(pv::kShutdown));
  const std::vector<uint8_t> code = assemble(src, 32, kCode);
  ASSERT_TRUE(m.memory().write_bytes(kCode, code.data(), code.size()));
  const RunResult r = m.run(1'000'000);
  ASSERT_EQ(r.reason, StopReason::GuestExit) << r.detail;
  std::vector<int32_t> results;
  for (uint32_t i = 0; i < 6; ++i) results.push_back(static_cast<int32_t>(m.memory().read(kResults + 4 * i, 4)));
  EXPECT_EQ(results, (std::vector<int32_t>{4, pv::kEPERM, pv::kEPERM, pv::kEPERM, 1, 0x74726976}));
  EXPECT_EQ(m.memory().read(slot_pte + 4, 4), 0u);  // the refused update did not land
}

}  // namespace
}  // namespace vtlab::test
