#include "debugger/gdb_registers.h"

#include <fmt/format.h>

#include "debugger/gdb_packet.h"
#include "devices/bus.h"  // all_ones

namespace vtlab::gdb {

namespace {
constexpr const char* kCore = "org.gnu.gdb.i386.core";
constexpr const char* kSegments = "org.gnu.gdb.i386.segments";
constexpr SegReg kGdbSegOrder[6] = {CS, SS, DS, ES, FS, GS};
}  // namespace

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::I8086: return "i8086";
    case Arch::I386: return "i386";
    case Arch::X86_64: return "x86-64";
  }
  return "?";
}

std::optional<ArchPolicy> parse_arch(const std::string& name) {
  if (name == "auto") return ArchPolicy::Auto;
  if (name == "i386") return ArchPolicy::I386;
  if (name == "x86-64") return ArchPolicy::X86_64;
  return std::nullopt;
}

Arch arch_for(const CpuState& s, ArchPolicy policy) {
  if (policy == ArchPolicy::X86_64 || (policy == ArchPolicy::Auto && s.long_mode_active())) return Arch::X86_64;
  return s.code_size() == 2 ? Arch::I8086 : Arch::I386;
}

uint64_t pc(const CpuState& s) {
  if (s.code_size() == 8) return s.rip;
  return (s.seg[CS].base + s.rip) & 0xFFFFFFFF;
}

bool set_pc(CpuState& s, uint64_t v) {
  if (s.code_size() == 8) {
    s.rip = v;
    return true;
  }
  const uint64_t base = s.seg[CS].base;
  if (v < base || v - base > s.seg[CS].limit) return false;
  s.rip = v - base;
  return true;
}

RegisterFile::RegisterFile(Arch arch) : arch_(arch) {
  const bool wide = arch == Arch::X86_64;
  const unsigned w = wide ? 8 : 4;
  if (wide) {
    // gdb's amd64 order is not the encoding order.
    const std::pair<const char*, Gpr> gprs[] = {{"rax", RAX}, {"rbx", RBX}, {"rcx", RCX}, {"rdx", RDX},
                                                {"rsi", RSI}, {"rdi", RDI}, {"rbp", RBP}, {"rsp", RSP}};
    for (const auto& [name, g] : gprs)
      regs_.push_back({name, w, Kind::Gpr, g, g == RSP || g == RBP ? "data_ptr" : "int64", kCore});
    for (uint8_t g = R8; g <= R15; ++g) regs_.push_back({fmt::format("r{}", g), w, Kind::Gpr, g, "int64", kCore});
    regs_.push_back({"rip", w, Kind::Rip, 0, "code_ptr", kCore});
  } else {
    const char* names[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (uint8_t g = 0; g < 8; ++g)
      regs_.push_back({names[g], w, Kind::Gpr, g, g == RSP || g == RBP ? "data_ptr" : "int32", kCore});
    regs_.push_back({"eip", w, Kind::Rip, 0, "code_ptr", kCore});
  }
  regs_.push_back({"eflags", 4, Kind::Eflags, 0, "i386_eflags", kCore});
  const char* segs[] = {"cs", "ss", "ds", "es", "fs", "gs"};
  for (uint8_t i = 0; i < 6; ++i) regs_.push_back({segs[i], 4, Kind::Selector, kGdbSegOrder[i], "int32", kCore});
  for (uint8_t i = 0; i < 8; ++i) regs_.push_back({fmt::format("st{}", i), 10, Kind::St, i, "i387_ext", kCore});
  const char* fpu[] = {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"};
  for (uint8_t i = 0; i < 8; ++i) regs_.push_back({fpu[i], 4, Kind::FpuControl, i, "int", kCore});
  if (wide) {
    regs_.push_back({"fs_base", 8, Kind::SegmentBase, FS, "int", kSegments});
    regs_.push_back({"gs_base", 8, Kind::SegmentBase, GS, "int", kSegments});
  }
  xml_ = build_xml();
}

size_t RegisterFile::total_bytes() const {
  size_t n = 0;
  for (const Reg& r : regs_) n += r.bytes;
  return n;
}

uint64_t RegisterFile::value(const CpuState& s, const Reg& r) const {
  switch (r.kind) {
    case Kind::Gpr: return s.gpr[r.index];
    case Kind::Rip: return pc(s);
    case Kind::Eflags: return s.flags.bits();
    case Kind::Selector: return s.seg[r.index].selector;
    case Kind::SegmentBase: return s.seg[r.index].base;
    case Kind::FpuControl:
      switch (r.index) {
        case 0: return s.fpu.fcw;
        case 1: return s.fpu.fsw;
        case 2: return s.fpu.ftw;
        default: return 0;  // instruction and operand pointers, opcode: not carried
      }
    case Kind::St: return 0;  // (read() formats the 10 bytes itself)
  }
  return 0;
}

std::string RegisterFile::read(const CpuState& s, unsigned n) const {
  const Reg& r = regs_[n];
  if (r.kind == Kind::St) return to_hex(s.fpu.regs[(((s.fpu.fsw >> 11) & 7) + r.index) & 7].data(), 10);  // ST(i)
  // A 32-bit layout shows the low halves of 64-bit registers.
  return to_hex_le(value(s, r) & all_ones(r.bytes), r.bytes);
}

bool RegisterFile::write(CpuState& s, unsigned n, const std::vector<uint8_t>& bytes) const {
  const Reg& r = regs_[n];
  if (bytes.size() != r.bytes) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) v |= uint64_t{bytes[i]} << (8 * i);
  switch (r.kind) {
    case Kind::Gpr:
      // A 32-bit layout writes the low half only (its view of the register).
      s.gpr[r.index] = r.bytes == 8 ? v : (s.gpr[r.index] & ~uint64_t{0xFFFFFFFF}) | v;
      return true;
    case Kind::Rip:
      return set_pc(s, v);
    case Kind::Eflags:
      if ((v ^ s.flags.bits()) & flag::VM) return false;
      s.flags.set_bits(v);
      return true;
    case Kind::SegmentBase:
      if (!is_canonical(v)) return false;
      s.seg[r.index].base = v;
      return true;
    default:
      return read(s, n) == to_hex(bytes.data(), bytes.size());
  }
}

std::string RegisterFile::build_xml() const {
  const bool wide = arch_ == Arch::X86_64;
  std::string s =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n";
  s += fmt::format("<architecture>{}</architecture>\n",
                   wide ? "i386:x86-64" : (arch_ == Arch::I8086 ? "i8086" : "i386"));
  if (arch_ == Arch::I8086) s += "<osabi>none</osabi>\n";
  s += fmt::format("<feature name=\"{}\">\n<flags id=\"i386_eflags\" size=\"4\">\n", kCore);
  // EFLAGS bits by name, SDM vol. 1, 3.4.3.
  const std::pair<const char*, int> bits[] = {
      {"CF", 0},  {"", 1},    {"PF", 2},  {"AF", 4},  {"ZF", 6},  {"SF", 7},   {"TF", 8},   {"IF", 9},
      {"DF", 10}, {"OF", 11}, {"NT", 14}, {"RF", 16}, {"VM", 17}, {"AC", 18},  {"VIF", 19}, {"VIP", 20},
      {"ID", 21}};
  for (const auto& [name, bit] : bits) s += fmt::format("<field name=\"{}\" start=\"{}\" end=\"{}\"/>\n", name, bit, bit);
  s += "</flags>\n";
  std::string feature = kCore;
  for (const Reg& r : regs_) {
    if (r.feature != feature) {
      s += fmt::format("</feature>\n<feature name=\"{}\">\n", r.feature);
      feature = r.feature;
    }
    s += fmt::format("<reg name=\"{}\" bitsize=\"{}\" type=\"{}\"{}/>\n", r.name, r.bytes * 8, r.type,
                     r.kind == Kind::FpuControl ? " group=\"float\"" : "");
  }
  s += "</feature>\n</target>\n";
  return s;
}

}  // namespace vtlab::gdb
