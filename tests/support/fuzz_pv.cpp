#include "support/fuzz_pv.h"

#include <algorithm>

#include "privilege/pv_abi.h"
#include "support/fuzz_inputs.h"

namespace vtlab::test::fuzz {

namespace {

constexpr uint32_t kPteP = 1, kPteRw = 2, kPteUs = 4;
constexpr unsigned kRamTables = kRam >> 22;  // page tables mapping guest RAM
constexpr uint64_t kVirtioTable = kPvPageDir + 0x1000 * (kRamTables + 1);
constexpr uint64_t kTablesEnd = kVirtioTable + 0x1000;
// Flat 4 GiB ring-3 code (execute/read) and data (read/write) segments.
constexpr uint32_t kFlatLo = 0x0000FFFF, kUserCodeHi = 0x00CFFA00, kUserDataHi = 0x00CFF200;

// Little x86 encoder for the set-up stub and the script's records.
struct Emitter {
  std::vector<uint8_t>& out;
  void bytes(std::initializer_list<uint8_t> b) { out.insert(out.end(), b); }
  void imm32(uint32_t v) {
    for (unsigned i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void mov(unsigned reg, uint32_t v) {  // MOV r32, imm32
    out.push_back(static_cast<uint8_t>(0xB8 + reg));
    imm32(v);
  }
  void hypercall(uint32_t nr) {
    mov(RAX, nr);
    bytes({0xCD, pv::kHypercallVector});
  }
  void push(uint32_t v) {
    out.push_back(0x68);
    imm32(v);
  }
  // JMP/JNE rel32 to an absolute address, the code starting at `base`.
  void jump(uint64_t base, uint64_t to, bool if_not_equal) {
    if (if_not_equal) bytes({0x0F, 0x85});
    else out.push_back(0xE9);
    imm32(static_cast<uint32_t>(to - (base + out.size() + 4)));
  }
};

// Guest-RAM page tables of the Paged and User starts: RAM below the
// monitor's 64 KiB identity-mapped user + writable, the tables themselves
// read-only (a pinned table must be), and the virtio page for the kernel.
void build_pv_tables(PhysicalMemory& mem) {
  const uint64_t monitor_base = kRam - pv::kMonitorBytes;
  for (uint64_t t = 0; t < kRamTables; ++t) {
    const uint64_t pt = kPvPageDir + 0x1000 * (t + 1);
    mem.write(kPvPageDir + 4 * t, 4, pt | kPteP | kPteRw | kPteUs);
    for (uint64_t i = 0; i < 1024; ++i) {
      const uint64_t frame = (t << 22) | (i << 12);
      const bool table = frame >= kPvPageDir && frame < kTablesEnd;
      mem.write(pt + 4 * i, 4, frame + kPageSize > monitor_base ? 0 : frame | kPteP | kPteUs | (table ? 0 : kPteRw));
    }
  }
  const uint64_t virtio = VirtioDevices::kBase;
  mem.write(kPvPageDir + 4 * (virtio >> 22), 4, kVirtioTable | kPteP | kPteRw);
  mem.write(kVirtioTable + 4 * ((virtio >> 12) & 0x3FF), 4, virtio | kPteP | kPteRw);
  // Pin every table, then the directory, and make it the base pointer.
  uint64_t op = kPvExtOps;
  const auto ext = [&](uint32_t cmd, uint64_t arg) {
    mem.write(op, 4, cmd);
    mem.write(op + 4, 4, arg);
    op += 8;
  };
  for (uint64_t pt = kPvPageDir + 0x1000; pt < kTablesEnd; pt += 0x1000) ext(pv::kPinL1, pt);
  ext(pv::kPinL2, kPvPageDir);
  ext(pv::kNewBaseptr, kPvPageDir);
}

constexpr uint32_t kExtOps = kRamTables + 1 + 2;

// The set-up a kernel does at boot, as hypercalls (docs/HYPERCALLS.md),
// each result checked: a failure shuts down with kPvSetupFailed + step.
std::vector<uint8_t> setup_stub(PvStart start, uint8_t extras) {
  std::vector<uint8_t> code;
  Emitter e{code};
  std::vector<size_t> to_fail;  // JNE rel32 fields to patch
  unsigned step = 0;
  const auto call = [&](uint32_t nr, uint32_t expected) {
    e.mov(RSI, ++step);
    e.hypercall(nr);
    e.out.push_back(0x3D);  // CMP EAX, imm32
    e.imm32(expected);
    e.bytes({0x0F, 0x85, 0, 0, 0, 0});
    to_fail.push_back(code.size() - 4);
  };
  e.mov(RBX, kPvShared);
  call(pv::kSetSharedInfo, 0);
  if (extras & pv_extra::kTimer) {  // first, so that a tick comes within the budget
    e.mov(RBX, kPvTimerPeriod);
    e.mov(RCX, kPvTimerVector);
    call(pv::kSetTimer, 0);
  }
  e.mov(RBX, kPvTraps);
  e.mov(RCX, 256);
  call(pv::kSetTrapTable, 0);
  e.mov(RBX, pv::kKernelDs);
  e.mov(RCX, kKernelStack);
  call(pv::kSetKernelStack, 0);
  for (const auto& [index, hi] : {std::pair{kPvUserCs >> 3, kUserCodeHi}, std::pair{kPvUserDs >> 3, kUserDataHi}}) {
    e.mov(RBX, index);
    e.mov(RCX, kFlatLo);
    e.mov(RDX, hi);
    call(pv::kUpdateDescriptor, 0);
  }
  if (start == PvStart::Paged || start == PvStart::User) {
    e.mov(RBX, kPvExtOps);
    e.mov(RCX, kExtOps);
    call(pv::kMmuExtOp, kExtOps);
  }
  for (unsigned r : {RAX, RBX, RCX, RDX, RSI, RDI}) e.mov(r, 0);
  if (start == PvStart::User) {
    // IRET to ring 3: SS, ESP, EFLAGS (IF), CS, EIP.
    for (uint32_t v : {uint32_t{kPvUserDs}, uint32_t(kUserStack), uint32_t{0x202}, uint32_t{kPvUserCs}, uint32_t(kCode)})
      e.push(v);
    e.out.push_back(0xCF);
  } else {
    e.jump(kPvStub, kCode, false);
  }
  const size_t fail = code.size();
  e.bytes({0x8D, 0x9E});  // LEA EBX, [ESI + kPvSetupFailed]
  e.imm32(kPvSetupFailed);
  e.hypercall(pv::kShutdown);
  e.bytes({0xEB, 0xFE});
  for (const size_t at : to_fail) {
    const auto rel = static_cast<uint32_t>(fail - (at + 4));
    for (unsigned i = 0; i < 4; ++i) code[at + i] = static_cast<uint8_t>(rel >> (8 * i));
  }
  return code;
}

}  // namespace

const char* pv_start_name(PvStart s) {
  switch (s) {
    case PvStart::Boot: return "pv-boot";
    case PvStart::Kernel: return "pv-kernel";
    case PvStart::Paged: return "pv-paged";
    case PvStart::User: return "pv-user";
    case PvStart::Count: break;
  }
  return "?";
}

PvProgram build_pv_program(const uint8_t* script, size_t size) {
  PvProgram p;
  Emitter e{p.code};
  size_t at = 0;
  const auto take = [&](size_t n) {
    std::vector<uint8_t> b(script + at, script + std::min(size, at + n));
    b.resize(n, 0);
    at = std::min(size, at + n);
    return b;
  };
  const auto word = [](const std::vector<uint8_t>& b, size_t i) {
    return b[i] | b[i + 1] << 8 | b[i + 2] << 16 | uint32_t{b[i + 3]} << 24;
  };
  const auto data_pointer = [](uint32_t v) { return static_cast<uint32_t>(kPvData + v % kPvDataBytes); };
  while (at < size && p.code.size() < kMaxCode) {
    const uint8_t k = script[at++];
    if (k < 0x80) {
      const std::vector<uint8_t> raw = take(k + 1u);
      p.code.insert(p.code.end(), raw.begin(), raw.end());
    } else if (k < 0xC0) {
      if (!(k & 0x10)) {
        const std::vector<uint8_t> a = take(12);
        e.mov(RBX, (k & 0x20) ? data_pointer(word(a, 0)) : word(a, 0));
        e.mov(RCX, word(a, 4));
        e.mov(RDX, word(a, 8));
      }
      e.hypercall(k & 0x0F);
    } else if (k < 0xE0) {
      const std::vector<uint8_t> n = take(1);
      const std::vector<uint8_t> d = take(n[0] + 1u);
      p.data.insert(p.data.end(), d.begin(), d.begin() + std::min(d.size(), kPvDataBytes - p.data.size()));
    } else {
      const std::vector<uint8_t> a = take(6);
      const uint32_t reg = (a[0] | a[1] << 8) & 0x1FC, value = word(a, 2);
      e.bytes({0xC7, 0x05});  // MOV dword [disp32], imm32
      e.imm32(static_cast<uint32_t>(VirtioDevices::slot_base(k & 1) + reg));
      e.imm32((k & 2) ? data_pointer(value) : value);
    }
  }
  p.code.resize(std::min<size_t>(p.code.size(), kMaxCode));
  return p;
}

void prepare_pv(Machine& m, PvStart start, uint8_t extras, uint32_t handler_offset, const PvProgram& program) {
  // What a multiboot loader leaves: flat 32-bit protected mode at ring 0
  // without paging, which the monitor compresses to ring 1 when it starts.
  prepare_cpu(m, CpuStart::Flat0, handler_offset, program.code.data(), program.code.size());
  PhysicalMemory& mem = m.memory();
  mem.write_bytes(kPvData, program.data.data(), program.data.size());
  if (start == PvStart::Boot) return;
  const size_t len = std::min<size_t>(program.code.size(), kMaxCode);
  const uint32_t handler = static_cast<uint32_t>(kCode + (len ? handler_offset % len : 0));
  for (unsigned v = 0; v < 256; ++v) {
    const bool user = (extras & pv_extra::kUserInts) || v == 3 || v == 4 || v == pv::kFastTrapVector;
    const uint8_t flags = (user ? 3 : 0) | ((extras & pv_extra::kMaskingTraps) ? pv::kTrapClearsIf : 0);
    mem.write(kPvTraps + 8 * v, 8, v | uint64_t{flags} << 8 | uint64_t{pv::kKernelCs} << 16 | uint64_t{handler} << 32);
  }
  mem.write(kPvShared + pv::shared::kEventsEnabled, 4, (extras & pv_extra::kEventsOn) ? 1 : 0);
  if (start != PvStart::Kernel) build_pv_tables(mem);
  const std::vector<uint8_t> stub = setup_stub(start, extras);
  mem.write_bytes(kPvStub, stub.data(), stub.size());
  m.cpu().s.rip = kPvStub;
}

MachineConfig pv_machine_config() {
  MachineConfig cfg;
  cfg.ram_bytes = kRam;
  cfg.mode = "pv";
  // Exits cost nothing, so the budget buys guest instructions (as in the
  // CPU target), but for hypercalls: one may scan 512 page tables
  // (pin, unpin: 1024 entries each), so a budget of free ones would let an
  // input make the host do that hundreds of times.
  make_exits_free(cfg);
  cfg.costs.set(ExitReason::Hypercall, kPvHypercallCost);
  cfg.virtio.console = true;
  cfg.virtio.drive = fuzz_drive_image();
  return cfg;
}

RunResult run_pv_input(const uint8_t* data, size_t size, uint64_t budget, uint64_t* hypercalls) {
  if (size < 3) return {};
  Machine m(pv_machine_config());
  const auto start = static_cast<PvStart>(data[0] & 3);
  const uint32_t handler_offset = (data[1] | data[2] << 8) & 0x1FFF;
  prepare_pv(m, start, data[0] & 0xFC, handler_offset, build_pv_program(data + 3, size - 3));
  const RunResult r = m.run(budget);
  if (hypercalls) *hypercalls = m.exits().count(ExitReason::Hypercall).count;
  return r;
}

}  // namespace vtlab::test::fuzz
