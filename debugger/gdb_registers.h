// The register files a gdb remote stub shows, in gdb's x86 layouts (the
// GDB manual, "Target Descriptions", "i386 Features"):
//
//   i8086, i386  eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs
//                st0-st7 fctrl fstat ftag fiseg fioff foseg fooff fop
//   x86-64       rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip eflags cs ss ds
//                es fs gs st0-st7 fctrl ... fop, then fs_base gs_base
//                (org.gnu.gdb.i386.segments)
//
// i8086 is the i386 layout under gdb's "i8086" architecture, which
// disassembles 16-bit code: the description for real mode and 16-bit code
// segments.  It names OS ABI "none" (gdb has no GNU/Linux handler for
// i8086 and would warn).  The layout is data: the
// target description is generated from the same table the register reads
// and writes use, so the two cannot disagree.
//
// The pc.  gdb knows nothing of segments: it sends linear addresses (m, M,
// Z0/Z1), and it reads code, sets breakpoints and steps at $pc.  So the pc
// register (eip, rip) holds the linear address of the next instruction,
// CS.base + EIP (RIP in 64-bit code): in real mode CS * 16 + IP after any
// real-mode CS load (F000:FFF0 with base FFFF0000 at reset is 0xFFFFFFF0),
// in flat protected mode and long mode EIP/RIP itself.  A write sets EIP
// to the value minus CS.base, refused outside CS.  SP and BP stay offsets:
// gdb's backtraces read the stack at them, right while SS.base is 0.
//
// gdb reads a description when it connects, and again only when told to
// (`unset tdesc filename`, or `set tdesc filename FILE`; see gdb_stub.h),
// so the stub keeps using the layout gdb last read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cpu_state.h"

namespace vtlab::gdb {

enum class Arch : uint8_t { I8086, I386, X86_64 };
const char* arch_name(Arch a);  // "i8086", "i386", "x86-64"

// Which description a session serves: the one the CPU's mode calls for
// (i8086 for 16-bit code, real mode included, i386 for 32-bit code, x86-64
// once EFER.LMA is set), or one register file throughout (i386: i8086 while
// the code is 16-bit, the same layout; x86-64: always, a 32-bit start shown
// as low halves).
enum class ArchPolicy : uint8_t { Auto, I386, X86_64 };
// "auto", "i386", "x86-64", as the CLI names them; nullopt for anything else.
std::optional<ArchPolicy> parse_arch(const std::string& name);
Arch arch_for(const CpuState& s, ArchPolicy policy);

// gdb's pc (see above): CS.base + EIP, RIP in 64-bit code.  set_pc is
// false (and changes nothing) for an address outside CS.
uint64_t pc(const CpuState& s);
bool set_pc(CpuState& s, uint64_t pc);

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
