// The register file a gdb remote stub shows, in one of gdb's two x86
// layouts (the GDB manual, "Target Descriptions", "i386 Features"):
//
//   i386    eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs
//           st0-st7 fctrl fstat ftag fiseg fioff foseg fooff fop
//   x86-64  rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags cs ss ds es
//           fs gs st0-st7 fctrl ... fop, then fs_base gs_base
//           (org.gnu.gdb.i386.segments)
//
// gdb fixes the layout when it connects and cannot switch it later, so a
// stub picks one for the whole session: x86-64 for guests that enter long
// mode (their 32-bit start shows as the low halves), i386 otherwise.  The
// layout is data: the target description is generated from the same table
// the register reads and writes use, so the two cannot disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu_state.h"

namespace vtlab::gdb {

enum class Arch : uint8_t { I386, X86_64 };
// "i386" / "x86-64", as the CLI names them; nullopt for anything else.
std::optional<Arch> parse_arch(const std::string& name);

class RegisterFile {
 public:
  explicit RegisterFile(Arch arch);

  Arch arch() const { return arch_; }
  unsigned count() const { return static_cast<unsigned>(regs_.size()); }
  unsigned width(unsigned n) const { return regs_[n].bytes; }
  // Bytes of a whole g packet.
  size_t total_bytes() const;
  const std::string& target_xml() const { return xml_; }

  // Register n as gdb wants it: little-endian hex of width(n) bytes.
  std::string read(const CpuState& s, unsigned n) const;
  // Writes register n.  Selectors and x87 registers only accept the value
  // they hold (a selector write would need the descriptor load behind it;
  // gdb's G writes every register back); EFLAGS.VM cannot change (only the
  // CPU's own transitions switch modes).  False when refused.
  bool write(CpuState& s, unsigned n, const std::vector<uint8_t>& bytes) const;

 private:
  enum class Kind : uint8_t { Gpr, Rip, Eflags, Selector, St, FpuControl, SegmentBase };
  struct Reg {
    std::string name;
    unsigned bytes;
    Kind kind;
    uint8_t index;  // GPR number, SegReg, st index, control register index
    std::string type;
    std::string feature;
  };

  uint64_t value(const CpuState& s, const Reg& r) const;
  std::string build_xml() const;

  Arch arch_;
  std::vector<Reg> regs_;
  std::string xml_;
};

}  // namespace vtlab::gdb
