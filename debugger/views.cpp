#include "debugger/views.h"

#include <algorithm>

#include "mmu/walk_explain.h"

namespace vtlab {

namespace {

template <typename T> void add_bits(std::vector<NamedBit>& out, uint64_t value, std::initializer_list<std::pair<const char*, T>> bits) {
  for (const auto& [name, mask] : bits) out.push_back(NamedBit{name, (value & mask) != 0});
}

// Entry `index` of a table of `size`-byte entries (8, or 16 for IA-32e
// IDT gates, whose upper half carries offset bits 63:32).
DescriptorView read_entry(const TableReader& read, bool ia32e, uint64_t table, unsigned index, unsigned size = 8) {
  DescriptorView v;
  v.index = index;
  uint8_t raw[16] = {};
  uint64_t addr = table + uint64_t{size} * index;
  if (!ia32e) addr &= 0xFFFFFFFF;
  v.readable = read(addr, raw, size) == size;
  if (!v.readable) return v;
  const auto dword = [&raw](unsigned at) {
    return static_cast<uint32_t>(raw[at] | raw[at + 1] << 8 | raw[at + 2] << 16 | uint32_t{raw[at + 3]} << 24);
  };
  v.d.lo = dword(0);
  v.d.hi = dword(4);
  if (size == 16) v.d.upper = dword(8) | uint64_t{dword(12)} << 32;
  v.d.addr = addr;
  v.type_text = segment_type_text(v.d.type(), v.d.s(), ia32e);
  if (!v.d.s()) {
    switch (v.d.type()) {
      case sys_type::kCallGate16:
      case sys_type::kCallGate32:
      case sys_type::kInterruptGate16:
      case sys_type::kInterruptGate32:
      case sys_type::kTrapGate16:
      case sys_type::kTrapGate32:
      case sys_type::kTaskGate:
        v.gate = true;
        v.target_selector = v.d.gate_selector();
        v.target_offset = v.d.type() == sys_type::kTaskGate ? 0 : size == 16 ? v.d.gate_offset64() : v.d.gate_offset();
        break;
      default:
        break;
    }
  }
  return v;
}

}  // namespace

RegistersView registers_view(const Cpu& cpu) {
  const CpuState& s = cpu.s;
  RegistersView v;
  v.gpr = s.gpr;
  v.wide = s.long_mode_active();
  v.rip = s.rip;
  v.rflags = s.flags.bits();
  add_bits<uint32_t>(v.flags, v.rflags,
                     {{"CF", flag::CF}, {"PF", flag::PF}, {"AF", flag::AF}, {"ZF", flag::ZF}, {"SF", flag::SF},
                      {"TF", flag::TF}, {"IF", flag::IF}, {"DF", flag::DF}, {"OF", flag::OF}, {"NT", flag::NT},
                      {"RF", flag::RF}, {"VM", flag::VM}, {"AC", flag::AC}, {"VIF", flag::VIF},
                      {"VIP", flag::VIP}, {"ID", flag::ID}});
  v.iopl = static_cast<unsigned>((v.rflags & flag::IOPL) >> flag::kIoplShift);
  v.cpl = s.cpl();
  v.mode = cpu_mode(s);
  v.code_size = s.code_size();
  v.icount = cpu.icount;
  v.virtual_time = cpu.virtual_time();
  return v;
}

std::string segment_type_text(unsigned type, bool code_or_data, bool ia32e) {
  if (code_or_data) {
    std::string t;
    if (type & 8) {
      t = (type & 2) ? "code, execute/read" : "code, execute-only";
      if (type & 4) t += ", conforming";
    } else {
      t = (type & 2) ? "data, read/write" : "data, read-only";
      if (type & 4) t += ", expand-down";
    }
    if (type & 1) t += ", accessed";
    return t;
  }
  static const char* const kSystem[16] = {
      "reserved",           "16-bit TSS (available)", "LDT",         "16-bit TSS (busy)",
      "16-bit call gate",   "task gate",              "16-bit interrupt gate", "16-bit trap gate",
      "reserved",           "32-bit TSS (available)", "reserved",    "32-bit TSS (busy)",
      "32-bit call gate",   "reserved",               "32-bit interrupt gate", "32-bit trap gate"};
  // IA-32e mode redefines the system types (SDM vol. 3, table 3-2): the
  // 32-bit TSS and gate types are the 64-bit ones, the 16-bit ones invalid.
  static const char* const kSystem64[16] = {
      "upper half of a 16-byte descriptor", "reserved", "LDT", "reserved", "reserved", "reserved", "reserved",
      "reserved", "reserved", "64-bit TSS (available)", "reserved", "64-bit TSS (busy)", "64-bit call gate",
      "reserved", "64-bit interrupt gate", "64-bit trap gate"};
  return (ia32e ? kSystem64 : kSystem)[type & 0xF];
}

SegmentsView segments_view(const CpuState& s) {
  static const char* const kNames[] = {"ES", "CS", "SS", "DS", "FS", "GS"};
  SegmentsView v;
  const auto add = [&v, &s](const char* name, const SegmentCache& c) {
    SegmentView sv;
    sv.name = name;
    sv.selector = c.selector;
    sv.base = c.base;
    sv.limit = c.limit;
    sv.attrs = c.attrs;
    sv.dpl = c.dpl();
    sv.present = c.present();
    sv.db = c.big();
    sv.g = c.attrs & ar::kGranularity;
    sv.l = (c.attrs & ar::kLong) && (c.attrs & ar::kS);
    sv.type_text = segment_type_text(c.attrs & ar::kTypeMask, c.attrs & ar::kS, s.long_mode_active());
    v.segs.push_back(sv);
  };
  for (unsigned i = 0; i < kNumSegRegs; ++i) add(kNames[i], s.seg[i]);
  add("LDTR", s.ldtr);
  add("TR", s.tr);
  v.gdtr = s.gdtr;
  v.idtr = s.idtr;
  return v;
}

ControlView control_view(const CpuState& s) {
  ControlView v;
  ControlRegView c0{"CR0", s.cr0, {}};
  add_bits<uint64_t>(c0.bits, s.cr0,
                     {{"PE", cr0::PE}, {"MP", cr0::MP}, {"EM", cr0::EM}, {"TS", cr0::TS}, {"ET", cr0::ET},
                      {"NE", cr0::NE}, {"WP", cr0::WP}, {"AM", cr0::AM}, {"NW", cr0::NW}, {"CD", cr0::CD},
                      {"PG", cr0::PG}});
  v.regs.push_back(c0);
  v.regs.push_back(ControlRegView{"CR2", s.cr2, {}});
  ControlRegView c3{"CR3", s.cr3, {}};
  add_bits<uint64_t>(c3.bits, s.cr3, {{"PWT", 1u << 3}, {"PCD", 1u << 4}});
  v.regs.push_back(c3);
  ControlRegView c4{"CR4", s.cr4, {}};
  add_bits<uint64_t>(c4.bits, s.cr4,
                     {{"VME", cr4::VME}, {"PVI", cr4::PVI}, {"TSD", cr4::TSD}, {"DE", cr4::DE}, {"PSE", cr4::PSE},
                      {"PAE", cr4::PAE}, {"MCE", cr4::MCE}, {"PGE", cr4::PGE}, {"PCE", cr4::PCE},
                      {"OSFXSR", cr4::OSFXSR}, {"OSXMMEXCPT", cr4::OSXMMEXCPT}});
  v.regs.push_back(c4);
  ControlRegView ef{"EFER", s.efer, {}};
  add_bits<uint64_t>(ef.bits, s.efer, {{"SCE", efer::SCE}, {"LME", efer::LME}, {"LMA", efer::LMA}, {"NXE", efer::NXE}});
  v.regs.push_back(ef);
  v.paging = paging_mode(s.cr0, s.cr4, s.efer);
  return v;
}

TableReader linear_reader(const Debugger& d) {
  return [&d](uint64_t linear, uint8_t* out, size_t len) { return d.read_linear(linear, out, len); };
}

std::vector<DescriptorView> descriptor_table_view(const TableRegister& t, bool ldt, bool ia32e, unsigned first,
                                                  unsigned count, const TableReader& read) {
  const unsigned entries = (t.limit + 1) / 8;
  std::vector<DescriptorView> out;
  for (unsigned i = first; i < entries && i - first < count; ++i) {
    DescriptorView v = read_entry(read, ia32e, t.base, i);
    v.selector = static_cast<uint16_t>(i * 8 | (ldt ? 4 : 0));
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<DescriptorView> gdt_view(const Debugger& d, unsigned first, unsigned count) {
  const CpuState& s = d.machine().cpu().s;
  return descriptor_table_view(s.gdtr, false, s.long_mode_active(), first, count, linear_reader(d));
}

std::vector<DescriptorView> idt_view(const Debugger& d, unsigned first, unsigned count) {
  const CpuState& s = d.machine().cpu().s;
  return interrupt_table_view(s.idtr, s.real_mode(), s.long_mode_active(), first, count, linear_reader(d));
}

std::vector<DescriptorView> interrupt_table_view(const TableRegister& idtr, bool real_mode, bool ia32e,
                                                 unsigned first, unsigned count, const TableReader& read) {
  std::vector<DescriptorView> out;
  if (real_mode) {
    // The real-mode IVT: 4-byte offset:segment pairs at IDTR.base.
    const unsigned entries = std::min<unsigned>((idtr.limit + 1) / 4, 256);
    for (unsigned i = first; i < entries && i - first < count; ++i) {
      DescriptorView v;
      v.index = i;
      v.selector = static_cast<uint16_t>(i);
      uint8_t raw[4];
      v.readable = read((idtr.base + 4 * uint64_t{i}) & 0xFFFFF, raw, 4) == 4;
      if (v.readable) {
        v.gate = true;
        v.type_text = "IVT entry";
        v.target_offset = static_cast<uint32_t>(raw[0] | raw[1] << 8);
        v.target_selector = static_cast<uint16_t>(raw[2] | raw[3] << 8);
      }
      out.push_back(std::move(v));
    }
    return out;
  }
  const unsigned size = ia32e ? 16 : 8;
  const unsigned entries = std::min<unsigned>((idtr.limit + 1) / size, 256);
  for (unsigned i = first; i < entries && i - first < count; ++i) {
    DescriptorView v = read_entry(read, ia32e, idtr.base, i, size);
    v.selector = static_cast<uint16_t>(i);
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<DisasmLine> disassemble(const Debugger& d, uint64_t offset, unsigned count, bool att) {
  const Cpu& cpu = d.machine().cpu();
  const unsigned size = cpu.s.code_size();
  const uint64_t ip_mask = all_ones(size);
  std::vector<DisasmLine> out;
  for (unsigned i = 0; i < count; ++i) {
    DisasmLine l;
    l.offset = offset & ip_mask;
    l.linear = cpu.linear(CS, l.offset);
    uint8_t buf[15];
    const size_t n = d.read_linear(l.linear, buf, sizeof buf);
    if (n == 0) {
      l.text = "(unmapped)";
      out.push_back(std::move(l));
      break;
    }
    // An instruction vtlab cannot execute still disassembles; a byte
    // that is no instruction shows as "(bad)" and is skipped alone.
    unsigned len = 0;
    l.text = Decoder::format(buf, n, size, l.offset, att, &len);
    if (len == 0) len = 1;
    l.bytes.assign(buf, buf + len);
    out.push_back(std::move(l));
    offset += len;
  }
  return out;
}

WalkExplanation explain_walk(Debugger& d, uint64_t linear, Access access, bool user) {
  Cpu& cpu = d.machine().cpu();
  return cpu.walker.explain(cpu.walk_request(linear, access, user));
}

std::vector<Tlb::Entry> tlb_view(const Cpu& cpu) {
  std::vector<Tlb::Entry> out;
  for (const Tlb::Entry& e : cpu.tlb.entries())
    if (e.valid()) out.push_back(e);
  return out;
}

}  // namespace vtlab
