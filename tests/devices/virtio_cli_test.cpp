// The virtio options as a user meets them (`vtlab run --drive ...
// --virtio-console`): one-line errors with exit status 2, and a guest
// whose block write is in the image file once vtlab has exited.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "support/assemble.h"
#include "support/boot.h"

namespace vtlab::test {
namespace {

const std::string kCli = VTLAB_CLI;
const std::string kHello = std::string(VTLAB_SAMPLES_DIR) + "/hello.elf";

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

TEST(VirtioCli, MalformedDriveIsOneLineAndStatus2) {
  const CommandResult r = run_command(kCli + " run --drive disk.img " + kHello);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: --drive: want file=IMG[,readonly=on|off], got disk.img\n");
  const CommandResult bad_flag = run_command(kCli + " run --drive file=disk.img,readonly=yes " + kHello);
  EXPECT_EQ(bad_flag.status, 2);
  EXPECT_EQ(bad_flag.err, "vtlab: --drive: want file=IMG[,readonly=on|off], got file=disk.img,readonly=yes\n");
}

TEST(VirtioCli, MissingImageIsOneLineAndStatus2) {
  const CommandResult r = run_command(kCli + " run --drive file=/no/such/disk.img " + kHello);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "vtlab: /no/such/disk.img: cannot open: No such file or directory\n");
  EXPECT_EQ(r.out, "");
}

TEST(VirtioCli, DevicesPresentDoNotDisturbAGuestThatIgnoresThem) {
  const std::string img = ::testing::TempDir() + "/vtlab-cli-idle.img";
  write_file(img, std::string(1024, 'i'));
  const CommandResult r = run_command(kCli + " run --drive file=" + img + ",readonly=on --virtio-console " + kHello);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "Hello from vtlab guest!\n");
  EXPECT_EQ(file_bytes(img), std::string(1024, 'i'));
  std::remove(img.c_str());
}

// A flat guest that writes 512 'V's to sector 1 through virtio-blk and
// exits through isa-debug-exit with the request's status byte.
const char* const kBlockWriter = R"(
    mov esi, 0xFEB00000
    mov dword ptr [esi+0x70], 0
    mov dword ptr [esi+0x70], 1
    mov dword ptr [esi+0x70], 3
    mov dword ptr [esi+0x24], 1
    mov dword ptr [esi+0x20], 1          # VIRTIO_F_VERSION_1
    mov dword ptr [esi+0x70], 11
    mov dword ptr [esi+0x30], 0
    mov dword ptr [esi+0x38], 4
    mov dword ptr [esi+0x80], 0x20000
    mov dword ptr [esi+0x90], 0x21000
    mov dword ptr [esi+0xa0], 0x22000
    mov dword ptr [esi+0x44], 1
    mov dword ptr [esi+0x70], 15
    mov dword ptr [0x23000], 1           # VIRTIO_BLK_T_OUT
    mov dword ptr [0x23004], 0
    mov dword ptr [0x23008], 1           # sector 1
    mov dword ptr [0x2300c], 0
    mov edi, 0x24000
    mov ecx, 512
    mov al, 'V'
    cld
    rep stosb
    mov byte ptr [0x25000], 0xEE
    mov dword ptr [0x20000], 0x23000     # header, NEXT -> 1
    mov dword ptr [0x20004], 0
    mov dword ptr [0x20008], 16
    mov dword ptr [0x2000c], 0x00010001
    mov dword ptr [0x20010], 0x24000     # data, NEXT -> 2
    mov dword ptr [0x20014], 0
    mov dword ptr [0x20018], 512
    mov dword ptr [0x2001c], 0x00020001
    mov dword ptr [0x20020], 0x25000     # status, WRITE
    mov dword ptr [0x20024], 0
    mov dword ptr [0x20028], 1
    mov dword ptr [0x2002c], 0x00000002
    mov word ptr [0x21004], 0
    mov word ptr [0x21002], 1
    mov dword ptr [esi+0x50], 0          # QueueNotify
    mov al, [0x25000]
    mov dx, 0xf4
    out dx, al
)";

TEST(VirtioCli, ABlockTheGuestWroteIsInTheImageAfterwards) {
  const std::string img = ::testing::TempDir() + "/vtlab-cli-disk.img";
  const std::string bin = ::testing::TempDir() + "/vtlab-cli-blkwriter.bin";
  write_file(img, std::string(3 * 512, '.'));
  const auto code = assemble(kBlockWriter);
  write_file(bin, std::string(code.begin(), code.end()));
  const CommandResult r = run_command(kCli + " run --flat 0x1000 --drive file=" + img + " " + bin);
  EXPECT_EQ(r.status, 1) << r.err;  // status byte 0 (VIRTIO_BLK_S_OK) -> (0 << 1) | 1
  EXPECT_EQ(file_bytes(img), std::string(512, '.') + std::string(512, 'V') + std::string(512, '.'));

  // Read-only: the same guest gets VIRTIO_BLK_S_IOERR (1 -> exit status 3) and the image is untouched.
  write_file(img, std::string(3 * 512, '.'));
  const CommandResult ro = run_command(kCli + " run --flat 0x1000 --drive file=" + img + ",readonly=on " + bin);
  EXPECT_EQ(ro.status, 3) << ro.err;
  EXPECT_EQ(file_bytes(img), std::string(3 * 512, '.'));
  std::remove(img.c_str());
  std::remove(bin.c_str());
}

}  // namespace
}  // namespace vtlab::test
