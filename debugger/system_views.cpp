#include "debugger/system_views.h"

#include <algorithm>

#include "privilege/hw_sim/hw_sim_monitor.h"
#include "privilege/pv_monitor.h"
#include "privilege/ring_one_monitor.h"
#include "privilege/shadow_descriptors.h"
#include "privilege/tss.h"

namespace vtlab {

namespace {

const RingOneMonitor* ring_one(const Machine& m) {
  const auto* mon = dynamic_cast<const RingOneMonitor*>(&m.monitor());
  return mon && mon->started() ? mon : nullptr;
}

// The real CPU's tables under trap, bt and pv: the window's table area is
// the monitor's private memory (what the monitor's translation maps it to
// for the CPU's own accesses); any other address is guest linear memory.
TableReader window_reader(Debugger& d) {
  return [&d](uint64_t lin, uint8_t* out, size_t len) -> size_t {
    if (!window::holds_table(lin)) return d.read_linear(lin, out, len);
    PhysicalMemory& mem = d.machine().memory();
    size_t n = 0;
    for (; n < len && window::holds_table(lin + n); ++n)
      out[n] = static_cast<uint8_t>(mem.read(PhysicalMemory::kPrivateBase + (lin + n - window::kBase), 1));
    return n;
  };
}

struct FieldSpec {
  const char* name;
  uint32_t offset;
  unsigned size;
};

std::vector<FieldSpec> tss16_fields() {
  std::vector<FieldSpec> f = {{"link", 0, 2}, {"SP0", 2, 2}, {"SS0", 4, 2}, {"SP1", 6, 2},  {"SS1", 8, 2},
                              {"SP2", 10, 2}, {"SS2", 12, 2}, {"IP", 14, 2}, {"FLAGS", 16, 2}};
  static const char* const kRegs[] = {"AX", "CX", "DX", "BX", "SP", "BP", "SI", "DI"};
  for (unsigned i = 0; i < 8; ++i) f.push_back({kRegs[i], 18 + 2 * i, 2});
  static const char* const kSegs[] = {"ES", "CS", "SS", "DS"};
  for (unsigned i = 0; i < 4; ++i) f.push_back({kSegs[i], 34 + 2 * i, 2});
  f.push_back({"LDT", 42, 2});
  return f;
}

std::vector<FieldSpec> tss32_fields() {
  std::vector<FieldSpec> f = {{"link", tss32::kLink, 2}, {"ESP0", 4, 4},  {"SS0", 8, 2},  {"ESP1", 12, 4},
                              {"SS1", 16, 2},            {"ESP2", 20, 4}, {"SS2", 24, 2}, {"CR3", tss32::kCr3, 4},
                              {"EIP", tss32::kEip, 4},   {"EFLAGS", tss32::kEflags, 4}};
  static const char* const kRegs[] = {"EAX", "ECX", "EDX", "EBX", "ESP", "EBP", "ESI", "EDI"};
  for (unsigned i = 0; i < 8; ++i) f.push_back({kRegs[i], tss32::kGprs + 4 * i, 4});
  static const char* const kSegs[] = {"ES", "CS", "SS", "DS", "FS", "GS"};
  for (unsigned i = 0; i < 6; ++i) f.push_back({kSegs[i], tss32::kSegs + 4 * i, 2});
  f.push_back({"LDT", tss32::kLdt, 2});
  f.push_back({"T", tss32::kTrap, 2});
  return f;
}

std::vector<FieldSpec> tss64_fields() {
  static const char* const kRsp[] = {"RSP0", "RSP1", "RSP2"};
  static const char* const kIst[] = {"IST1", "IST2", "IST3", "IST4", "IST5", "IST6", "IST7"};
  std::vector<FieldSpec> f;
  for (unsigned i = 0; i < 3; ++i) f.push_back({kRsp[i], tss64::rsp(i), 8});
  for (unsigned i = 1; i <= 7; ++i) f.push_back({kIst[i - 1], tss64::ist(i), 8});
  return f;
}

// Where the 32- and 64-bit TSS keep the I/O map base (SDM vol. 1, 19.5.2).
constexpr uint32_t kIoMapBase = 0x66;

}  // namespace

bool shadow_descriptor_tables(const Machine& m) { return ring_one(m) != nullptr; }

const ShadowMmu* shadow_page_tables(const Machine& m) {
  if (const RingOneMonitor* r = ring_one(m)) return &r->shadow();
  if (const auto* hw = dynamic_cast<const HwSimMonitor*>(&m.monitor())) return hw->shadow_paging();
  return nullptr;
}

SystemTables system_tables(Debugger& d, TablesSide side) {
  const CpuState& s = d.machine().cpu().s;
  SystemTables t;
  t.side = side;
  t.real_mode = s.real_mode();
  t.ia32e = s.long_mode_active();
  const RingOneMonitor* mon = ring_one(d.machine());
  if (mon && side == TablesSide::Guest) {
    const VirtualCpu& v = mon->virtual_cpu();
    t.gdtr = v.gdtr, t.idtr = v.idtr, t.ldtr = v.ldtr, t.tr = v.tr;
    t.read = linear_reader(d);
    t.whose = "the guest's own, as it loaded them (the monitor keeps them in its virtual CPU)";
    return t;
  }
  t.gdtr = s.gdtr, t.idtr = s.idtr, t.ldtr = s.ldtr, t.tr = s.tr;
  if (mon) {
    t.read = window_reader(d);
    t.whose = "the real CPU's: the monitor's shadow tables, in private memory behind its window at 0xffc00000";
  } else if (dynamic_cast<const PvMonitor*>(&d.machine().monitor())) {
    t.side = TablesSide::Real;  // the only ones there are
    t.read = window_reader(d);
    t.whose = "the monitor's, behind its window at 0xffc00000: a pv guest loads no tables of its own (it registers "
              "a trap table and descriptors by hypercall)";
  } else {
    t.read = linear_reader(d);
    t.whose = "the CPU's, which are the guest's own (no shadow tables in this mode)";
  }
  return t;
}

std::vector<DescriptorView> ldt_view(const SystemTables& t) {
  if (!(t.ldtr.selector & ~3) || !t.ldtr.present()) return {};
  // At most 8192 descriptors, whatever a page-granular limit says.
  const TableRegister ldt{t.ldtr.base, std::min<uint32_t>(t.ldtr.limit, 0xFFFF)};
  return descriptor_table_view(ldt, true, t.ia32e, 0, 8192, t.read);
}

TssView tss_view(const SystemTables& t) {
  TssView v;
  const unsigned type = t.tr.attrs & ar::kTypeMask;
  if ((t.tr.attrs & ar::kS) || !t.tr.present()) return v;
  if (type == 1 || type == 3) v.format = 16;
  else if (type == 9 || type == 11) v.format = t.ia32e ? 64 : 32;
  else return v;
  v.base = t.tr.base;
  v.limit = t.tr.limit;
  std::vector<FieldSpec> specs = v.format == 16 ? tss16_fields() : v.format == 32 ? tss32_fields() : tss64_fields();
  if (v.format != 16) specs.push_back({"I/O map base", kIoMapBase, 2});
  v.readable = true;
  for (const FieldSpec& f : specs) {
    uint8_t raw[8] = {};
    uint64_t addr = v.base + f.offset;
    if (!t.ia32e) addr &= 0xFFFFFFFF;
    TssField field{f.name, f.offset, 0, f.size};
    if (t.read(addr, raw, f.size) == f.size) {
      for (unsigned i = 0; i < f.size; ++i) field.value |= uint64_t{raw[i]} << (8 * i);
    } else {
      v.readable = false;
    }
    if (field.name == "T") field.value &= 1;
    if (field.name == "I/O map base") v.io_map_in_limit = field.value <= v.limit;
    v.fields.push_back(std::move(field));
  }
  return v;
}

PagingRegisters guest_paging(const Cpu& cpu) {
  const WalkRequest r = cpu.walk_request(0, Access::Read, false);
  return PagingRegisters{r.cr0, r.cr3, r.cr4};
}

}  // namespace vtlab
