#include "support/fuzz_inputs.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/loader/bios.h"
#include "core/loader/flat.h"
#include "core/loader/load_error.h"
#include "core/loader/multiboot.h"
#include "devices/local_apic.h"
#include "devices/virtio_mmio.h"
#include "privilege/descriptors.h"

namespace vtlab::test::fuzz {

std::vector<uint8_t> read_seed(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

namespace {

// Descriptor access bytes (P, DPL, S, type) as the SDM draws them.
constexpr uint8_t kAccCode0 = 0x9B, kAccData0 = 0x93, kAccCode3 = 0xFB, kAccData3 = 0xF3, kAccTss32Busy = 0x8B;
constexpr uint8_t kAccCode1 = 0xBB, kAccData1 = 0xB3, kAccCode2 = 0xDB, kAccData2 = 0xD3;
constexpr unsigned kGdtEntries = 14;  // null, rings 0/3, TSS, long mode (6-9), rings 1/2 (10-13)
constexpr uint8_t kAccIntGate32Dpl3 = 0xEE, kAccTss64Busy = 0x8B;
constexpr uint8_t kFlagsLong = 0xA;  // G, L
constexpr uint64_t kPteP = 1, kPteRw = 2, kPteUs = 4, kPtePs = 0x80;
constexpr uint64_t kUserPage = kPteP | kPteRw | kPteUs;

uint64_t segment_descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags = 0xC) {
  return (limit & 0xFFFF) | (uint64_t{base & 0xFFFFFF} << 16) | (uint64_t{access} << 40) |
         (uint64_t{(limit >> 16) & 0xF} << 48) | (uint64_t{flags & 0xFu} << 52) | (uint64_t{base >> 24} << 56);
}

uint64_t gate_descriptor(uint16_t sel, uint32_t offset, uint8_t access) {
  return (offset & 0xFFFF) | (uint64_t{sel} << 16) | (uint64_t{access} << 40) | (uint64_t{offset >> 16} << 48);
}

Descriptor gdt_entry(PhysicalMemory& mem, unsigned index) {
  Descriptor d;
  const uint64_t raw = mem.read(kGdt + index * 8, 8);
  d.lo = static_cast<uint32_t>(raw);
  d.hi = static_cast<uint32_t>(raw >> 32);
  d.addr = kGdt + index * 8;
  return d;
}

void build_protected(Machine& m, unsigned ring, uint32_t handler) {
  PhysicalMemory& mem = m.memory();
  CpuState& s = m.cpu().s;
  set_flat_protected_mode(s);
  mem.write(kGdt + 1 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode0));
  mem.write(kGdt + 2 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccData0));
  mem.write(kGdt + 3 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode3));
  mem.write(kGdt + 4 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccData3));
  mem.write(kGdt + 5 * 8, 8, segment_descriptor(kTss, 0x67, kAccTss32Busy, 0));
  mem.write(kGdt + 10 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode1));
  mem.write(kGdt + 11 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccData1));
  mem.write(kGdt + 12 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode2));
  mem.write(kGdt + 13 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccData2));
  s.gdtr = {kGdt, kGdtEntries * 8 - 1};
  for (unsigned v = 0; v < 256; ++v) mem.write(kIdt + v * 8, 8, gate_descriptor(kCode0, handler, kAccIntGate32Dpl3));
  s.idtr = {kIdt, 256 * 8 - 1};
  // Stacks for rings 0-2 (only ring 0's is used by the gates; a guest
  // that builds a call gate to ring 1 or 2 finds one too).
  mem.write(kTss + 4, 4, kKernelStack);  // ESP0
  mem.write(kTss + 8, 4, kData0);        // SS0
  mem.write(kTss + 12, 4, kKernelStack - 0x4000);
  mem.write(kTss + 16, 4, kData1);
  mem.write(kTss + 20, 4, kKernelStack - 0x8000);
  mem.write(kTss + 24, 4, kData2);
  s.tr = segment_cache(kTssSel, gdt_entry(mem, 5));
  static constexpr uint16_t kCodeSel[] = {kCode0, kCode1, kCode2, kCode3}, kDataSel[] = {kData0, kData1, kData2, kData3};
  const uint16_t code = kCodeSel[ring], data = kDataSel[ring];
  s.seg[CS] = segment_cache(code, gdt_entry(mem, code >> 3));
  for (unsigned r : {ES, SS, DS, FS, GS}) s.seg[r] = segment_cache(data, gdt_entry(mem, data >> 3));
  s.gpr[RSP] = ring ? kUserStack : kKernelStack;
}

// 32-bit paging: a page directory, four page tables for the first 16 MiB
// and one for the local APIC's page, every page user + writable.
void build_paging32(Machine& m) {
  PhysicalMemory& mem = m.memory();
  const uint64_t pd = kPageDir;
  for (uint64_t t = 0; t < kRam >> 22; ++t) {
    const uint64_t pt = pd + 0x1000 * (t + 1);
    mem.write(pd + 4 * t, 4, pt | kUserPage);
    for (uint64_t i = 0; i < 1024; ++i) mem.write(pt + 4 * i, 4, ((t << 22) | (i << 12)) | kUserPage);
  }
  const uint64_t apic_pt = pd + 0x1000 * ((kRam >> 22) + 1);
  mem.write(pd + 4 * (LocalApic::kBase >> 22), 4, apic_pt | kUserPage);
  mem.write(apic_pt + 4 * ((LocalApic::kBase >> 12) & 0x3FF), 4, LocalApic::kBase | kUserPage);
  CpuState& s = m.cpu().s;
  s.cr3 = pd;
  s.cr0 |= cr0::PG;
  m.cpu().paging_changed(false);
}

// PAE paging: the first 16 MiB and the local APIC's 2 MiB by 2 MiB pages.
void build_pae(Machine& m) {
  PhysicalMemory& mem = m.memory();
  const uint64_t pdpt = kPageDir, pd0 = kPageDir + 0x1000, pd3 = kPageDir + 0x2000;
  for (uint64_t i = 0; i < kRam >> 21; ++i) mem.write(pd0 + 8 * i, 8, (i << 21) | kUserPage | kPtePs);
  mem.write(pd3 + 8 * ((LocalApic::kBase >> 21) & 511), 8, LocalApic::kBase | kUserPage | kPtePs);
  mem.write(pdpt + 0, 8, pd0 | kPteP);
  mem.write(pdpt + 24, 8, pd3 | kPteP);
  CpuState& s = m.cpu().s;
  s.cr4 |= cr4::PAE;
  s.cr3 = pdpt;
  m.cpu().walker.load_pdptes(pdpt, s.pdpte);
  s.cr0 |= cr0::PG;
  m.cpu().paging_changed(false);
}

// 64-bit mode on top of build_protected's GDT: 64-bit code segments, a
// 16-byte TSS descriptor (the same TSS memory: RSP0 at offset 4), 16-byte
// interrupt gates to the handler, 4-level tables mapping the first 16 MiB
// and the local APIC's 2 MiB by 2 MiB pages, the low half again at the top
// (PML4 entry 511), and SYSCALL to the handler.
void build_long(Machine& m, bool ring3, uint32_t handler) {
  PhysicalMemory& mem = m.memory();
  CpuState& s = m.cpu().s;
  mem.write(kGdt + 6 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode0, kFlagsLong));
  mem.write(kGdt + 7 * 8, 8, segment_descriptor(0, 0xFFFFF, kAccCode3, kFlagsLong));
  mem.write(kGdt + 8 * 8, 8, segment_descriptor(kTss, 0x67, kAccTss64Busy, 0));
  mem.write(kGdt + 9 * 8, 8, 0);  // base 63:32 = 0, upper type 0
  for (unsigned v = 0; v < 256; ++v) {
    mem.write(kIdt + v * 16, 8, gate_descriptor(kCode64, handler, kAccIntGate32Dpl3));
    mem.write(kIdt + v * 16 + 8, 8, 0);
  }
  s.idtr = {kIdt, 256 * 16 - 1};
  for (unsigned i = 0; i < 26; ++i) mem.write(kTss + 4 + 4 * i, 4, 0);
  mem.write(kTss + 4, 8, kKernelStack);  // RSP0
  s.tr = segment_cache(kTss64Sel, gdt_entry(mem, 8));
  s.seg[CS] = segment_cache(ring3 ? kCode64User : kCode64, gdt_entry(mem, ring3 ? 7 : 6));

  const uint64_t pml4 = kPageDir, pdpt = kPageDir + 0x1000, pd0 = kPageDir + 0x2000, pd3 = kPageDir + 0x3000;
  for (uint64_t i = 0; i < 512; ++i) {
    mem.write(pml4 + 8 * i, 8, 0);
    mem.write(pdpt + 8 * i, 8, 0);
    mem.write(pd0 + 8 * i, 8, i < (kRam >> 21) ? (i << 21) | kUserPage | kPtePs : 0);
    mem.write(pd3 + 8 * i, 8, 0);
  }
  mem.write(pd3 + 8 * ((LocalApic::kBase >> 21) & 511), 8, LocalApic::kBase | kUserPage | kPtePs);
  mem.write(pdpt + 0, 8, pd0 | kUserPage);
  mem.write(pdpt + 24, 8, pd3 | kUserPage);
  mem.write(pml4 + 0, 8, pdpt | kUserPage);
  mem.write(pml4 + 8 * 511, 8, pdpt | kUserPage);
  s.cr4 |= cr4::PAE;
  s.cr3 = pml4;
  s.efer |= efer::LME | efer::LMA | efer::SCE;
  s.cr0 |= cr0::PG;
  s.msrs[msr::kStar] = uint64_t{kCode64} << 32 | uint64_t{kData0} << 48;
  s.msrs[msr::kLstar] = handler;
  m.cpu().paging_changed(false);
}

}  // namespace

unsigned run_loader_input(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> file(data, data + size);
  unsigned loaded = 0;
  const auto attempt = [&](auto&& load) {
    PhysicalMemory mem(kLoaderRam);
    CpuState cpu;
    reset_cpu_state(cpu);
    try {
      load(mem, cpu);
      ++loaded;
    } catch (const LoadError&) {
    }
  };
  attempt([&](PhysicalMemory& mem, CpuState& cpu) { load_multiboot(file, "fuzz.elf", "a b", mem, cpu); });
  attempt([&](PhysicalMemory& mem, CpuState& cpu) { load_flat(file, 0x100000, mem, cpu); });
  if (size >= 4) {
    const uint32_t at = data[0] | data[1] << 8 | data[2] << 16 | uint32_t{data[3]} << 24;
    attempt([&](PhysicalMemory& mem, CpuState& cpu) { load_flat(file, at, mem, cpu); });
  }
  std::vector<uint8_t> rom(file.begin(), file.begin() + std::min<size_t>(size, kBiosSizes[0]));
  rom.resize(kBiosSizes[0], 0xFF);
  attempt([&](PhysicalMemory& mem, CpuState& cpu) { load_bios(rom, mem, cpu); });
  return loaded;
}

const char* cpu_start_name(CpuStart s) {
  switch (s) {
    case CpuStart::Real: return "real";
    case CpuStart::Flat0: return "flat-cpl0";
    case CpuStart::Flat3: return "flat-cpl3";
    case CpuStart::Paged0: return "paged-cpl0";
    case CpuStart::Paged3: return "paged-cpl3";
    case CpuStart::Pae3: return "pae-cpl3";
    case CpuStart::Long0: return "long-cpl0";
    case CpuStart::Long3: return "long-cpl3";
    case CpuStart::Flat1: return "flat-cpl1";
    case CpuStart::Flat2: return "flat-cpl2";
    case CpuStart::Paged1: return "paged-cpl1";
    case CpuStart::Paged2: return "paged-cpl2";
    case CpuStart::Count: break;
  }
  return "?";
}

unsigned cpu_start_ring(CpuStart s) {
  switch (s) {
    case CpuStart::Flat1:
    case CpuStart::Paged1: return 1;
    case CpuStart::Flat2:
    case CpuStart::Paged2: return 2;
    case CpuStart::Flat3:
    case CpuStart::Paged3:
    case CpuStart::Pae3:
    case CpuStart::Long3: return 3;
    default: return 0;
  }
}

void prepare_cpu(Machine& m, CpuStart start, uint32_t handler_offset, const uint8_t* code, size_t len,
                 uint8_t extras) {
  len = std::min<size_t>(len, kMaxCode);
  m.memory().write_bytes(kCode, code, len);
  const uint32_t handler = static_cast<uint32_t>(kCode + (len ? handler_offset % len : 0));
  CpuState& s = m.cpu().s;
  if (start == CpuStart::Real) {
    for (SegmentCache& sc : s.seg) {
      sc.selector = 0;
      sc.base = 0;
    }
    for (unsigned v = 0; v < 256; ++v) m.memory().write(4 * v, 4, handler);  // segment 0, offset handler
    s.idtr = {0, 0x3FF};
    s.gpr[RSP] = 0xFFF0;
  } else {
    const unsigned ring = cpu_start_ring(start);
    build_protected(m, ring, handler);
    if (start == CpuStart::Paged0 || start == CpuStart::Paged1 || start == CpuStart::Paged2 ||
        start == CpuStart::Paged3)
      build_paging32(m);
    if (start == CpuStart::Pae3) build_pae(m);
    if (start == CpuStart::Long0 || start == CpuStart::Long3) build_long(m, ring == 3, handler);
    if (extras & extra::kCr4) s.cr4 |= cr4::TSD | cr4::DE | cr4::PSE | cr4::PGE;
    if (extras & extra::kNxe) s.efer |= efer::NXE;
    m.cpu().paging_changed(false);
  }
  uint64_t flags = s.flags.bits();
  if (extras & extra::kIopl3) flags |= flag::IOPL;
  if (extras & extra::kIf) flags |= flag::IF;
  if (extras & extra::kTrapFlag) flags |= flag::TF;
  s.flags.set_bits(flags);
  s.rip = kCode;
}

const char* cpu_mode(const uint8_t* data, size_t size) {
  static constexpr const char* kModes[] = {"native", "trap", "bt", "hw"};
  return size < 3 ? "native" : kModes[data[2] >> 6];
}

CpuStart cpu_input_start(const uint8_t* data, size_t size) {
  if (size < 3) return CpuStart::Real;
  const unsigned word = data[1] | data[2] << 8;
  const unsigned index = (data[0] & 7) | ((word >> 13) & 1) << 3;
  return static_cast<CpuStart>(index % static_cast<unsigned>(CpuStart::Count));
}

namespace {

void prepare_cpu_input(Machine& m, const uint8_t* data, size_t size) {
  const unsigned word = data[1] | data[2] << 8;
  prepare_cpu(m, cpu_input_start(data, size), word & 0x1FFF, data + 3, size - 3, data[0] & 0xF8);
}

}  // namespace

void make_exits_free(MachineConfig& cfg) {
  for (size_t r = 0; r < kExitReasons; ++r) cfg.costs.set(static_cast<ExitReason>(r), 0);
}

RunResult run_cpu_input(const uint8_t* data, size_t size, uint64_t budget) {
  if (size < 3) return {};
  MachineConfig cfg;
  cfg.ram_bytes = kRam;
  cfg.mode = cpu_mode(data, size);
  // Exits cost nothing here, so the budget buys a monitor mode as many
  // guest instructions as native.
  make_exits_free(cfg);
  Machine m(cfg);
  prepare_cpu_input(m, data, size);
  return m.run(budget);
}

RunResult run_kvm_input(const uint8_t* data, size_t size, uint64_t budget_ns) {
  if (size < 3) return {};
  MachineConfig cfg;
  cfg.ram_bytes = kRam;
  cfg.mode = "hw";
  cfg.hw_backend = "kvm";
  Machine m(cfg);
  prepare_cpu_input(m, data, size);
  return m.run(budget_ns);
}

namespace {

// The virtio-blk image the device inputs use: a temporary file of
// kDriveBytes, zeroed before each input so that every input starts alike.
constexpr size_t kDriveBytes = 16 << 10;

struct DriveImage {
  std::string path;
  DriveImage() {
    char name[] = "/tmp/vtlab-fuzz-drive-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error("fuzz: cannot create the virtio-blk image");
    ::close(fd);
    path = name;
  }
  ~DriveImage() { ::unlink(path.c_str()); }
};

}  // namespace

const std::string& fuzz_drive_image() {
  static const DriveImage image;
  std::ofstream(image.path, std::ios::binary | std::ios::trunc).write(std::string(kDriveBytes, '\0').data(), kDriveBytes);
  return image.path;
}

namespace {

// The driver side of the virtio-mmio handshake (virtio 1.1, 3.1.1) on
// `base`, with queue `queue` of `size` entries at guest-chosen ring
// addresses, so that later notifications make the device walk whatever the
// input put in RAM there.
void bring_up_virtio(PhysicalMemory& mem, uint64_t base, uint32_t queue, uint32_t size, uint32_t rings) {
  using R = VirtioMmioDevice;
  const auto put = [&](uint32_t reg, uint32_t v) { mem.write(base + reg, 4, v); };
  put(R::kStatus, 0);
  put(R::kStatus, R::kAcknowledge | R::kDriver);
  put(R::kDriverFeaturesSel, 1);
  put(R::kDriverFeatures, 1);  // VIRTIO_F_VERSION_1 (bit 32)
  put(R::kDriverFeaturesSel, 0);
  put(R::kDriverFeatures, 0);
  put(R::kStatus, R::kAcknowledge | R::kDriver | R::kFeaturesOk);
  put(R::kQueueSel, queue);
  put(R::kQueueNum, size);
  // Rings anywhere in RAM (and sometimes past it), 16-byte aligned.
  const uint64_t desc = (uint64_t{rings} << 4) & 0xFFFFF0, avail = desc + 16 * size, used = (avail + 6 + 2 * size + 3) & ~3ull;
  put(R::kQueueDescLow, static_cast<uint32_t>(desc));
  put(R::kQueueDriverLow, static_cast<uint32_t>(avail));
  put(R::kQueueDeviceLow, static_cast<uint32_t>(used));
  put(R::kQueueReady, 1);
  put(R::kStatus, R::kAcknowledge | R::kDriver | R::kFeaturesOk | R::kDriverOk);
}

}  // namespace

size_t run_device_input(const uint8_t* data, size_t size) {
  MachineConfig cfg;
  cfg.ram_bytes = kRam;
  cfg.virtio.console = true;
  cfg.virtio.drive = fuzz_drive_image();
  Machine m(cfg);
  // Every port range and MMIO range the machine registered, so a new
  // device is covered without a change here.
  const std::vector<Bus::Range> ports = m.io().ranges(), mmio = m.memory().mmio().ranges();
  // STI; HLT; JMP back to the STI, and an IRET as every vector's handler.
  const uint8_t idle[] = {0xFB, 0xF4, 0xEB, 0xFC};
  prepare_cpu(m, CpuStart::Flat0, 0, idle, sizeof idle);
  m.memory().write(kCode + 0x100, 1, 0xCF);
  for (unsigned v = 0; v < 256; ++v)
    m.memory().write(kIdt + v * 8, 8, gate_descriptor(kCode0, kCode + 0x100, kAccIntGate32Dpl3));

  size_t done = 0;
  for (size_t at = 0; at + 8 <= size; at += 8, ++done) {
    const uint8_t kind = data[at] % 7, a = data[at + 1], b = data[at + 2], c = data[at + 3];
    const uint32_t value = data[at + 4] | data[at + 5] << 8 | data[at + 6] << 16 | uint32_t{data[at + 7]} << 24;
    const uint16_t ab = static_cast<uint16_t>(a | b << 8);
    switch (kind) {
      case 0:
      case 1: {
        const Bus::Range& r = ports[a % ports.size()];
        const uint16_t port = (c & 0x80) ? static_cast<uint16_t>(r.base + b % r.length) : ab;
        const unsigned width = (c & 3) == 3 ? 4 : 1u << (c & 3);
        if (kind == 0)
          m.cpu().port_in(port, width);
        else
          m.cpu().port_out(port, width, value);
        break;
      }
      case 2:
      case 3: {
        // Offsets up to 4 KiB into the range, so past its end as well, and
        // any alignment.
        const Bus::Range& r = mmio[a % mmio.size()];
        const uint64_t addr = r.base + ((b | (c & 0xF0) << 4) & 0xFFF);
        const unsigned width = 1u << (c & 3);
        const uint64_t wide = width == 8 ? (uint64_t{value} << 32 | value) : value;
        if (kind == 2)
          m.memory().read(addr, width);
        else
          m.memory().write(addr, width, wide);
        break;
      }
      case 4:
        m.run(ab);
        m.cpu().clear_stop();  // a guest exit or reset request ends a run, not the sequence
        break;
      case 5:  // RAM the devices may read as rings and buffers
        m.memory().write((a | b << 8 | uint32_t{c} << 16) & (kRam - 4), 4, value);
        break;
      case 6:
        bring_up_virtio(m.memory(), VirtioDevices::slot_base(a & 1), b & 1, c, value);
        break;
    }
  }
  return done;
}

}  // namespace vtlab::test::fuzz
