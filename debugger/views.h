// What a debugger shows of the machine, as data (the CLI, the gdb stub and
// the GUI each lay it out their own way): registers with decoded flags,
// segment registers with their hidden caches, control registers with named
// bits (SDM vol. 3, 2.5), GDT/IDT entries decoded by privilege/descriptors.h,
// a page walk explained by PageWalker::explain, the TLB, and disassembly by
// the Zydis formatter (core/decoder.h).  Nothing here changes the machine.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/cpu_state.h"
#include "debugger/debugger.h"
#include "mmu/tlb.h"
#include "privilege/descriptors.h"

namespace vtlab {

struct NamedBit {
  const char* name;
  bool set;
};

struct RegistersView {
  std::array<uint64_t, 16> gpr{};  // RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (encoding order)
  bool wide = false;               // IA-32e mode: the 64-bit registers are the guest's view
  uint64_t rip = 0, rflags = 0;
  std::vector<NamedBit> flags;  // CF PF AF ZF SF TF IF DF OF NT RF VM AC VIF VIP ID
  unsigned iopl = 0, cpl = 0;
  CpuMode mode = CpuMode::Real;
  unsigned code_size = 2;  // bytes: 2, 4 or 8
  uint64_t icount = 0, virtual_time = 0;
};
RegistersView registers_view(const Cpu& cpu);

// One segment register (or LDTR/TR) with its hidden cache.
struct SegmentView {
  const char* name = "";
  uint16_t selector = 0;
  uint64_t base = 0;
  uint32_t limit = 0;  // bytes, granularity applied
  uint32_t attrs = 0;  // VMX access-rights layout (core/cpu_state.h)
  unsigned dpl = 0;
  bool present = false, db = false, g = false;
  bool l = false;          // CS.L: 64-bit code in IA-32e mode
  std::string type_text;  // "code, execute/read, accessed", "32-bit TSS (busy)", ...
};
struct SegmentsView {
  std::vector<SegmentView> segs;  // ES CS SS DS FS GS LDTR TR
  TableRegister gdtr, idtr;
};
SegmentsView segments_view(const CpuState& s);

struct ControlRegView {
  const char* name;
  uint64_t value;
  std::vector<NamedBit> bits;  // the architecturally named bits, low to high
};
// CR0, CR2, CR3, CR4, EFER; `paging` names the mode CR0/CR4/EFER select.
struct ControlView {
  std::vector<ControlRegView> regs;
  PagingMode paging = PagingMode::None;
};
ControlView control_view(const CpuState& s);

// The type field of a descriptor or segment cache, in words; `ia32e`
// reads system types by IA-32e mode's table (64-bit TSS and gates).
std::string segment_type_text(unsigned type, bool code_or_data, bool ia32e = false);

// One GDT or IDT entry (or a real-mode IVT entry, a segment:offset pair).
struct DescriptorView {
  unsigned index = 0;
  uint16_t selector = 0;  // GDT: index * 8; IDT: the vector
  bool readable = false;  // false: the table's memory is not mapped
  Descriptor d;           // raw doublewords and the decoders
  std::string type_text;
  bool gate = false;      // IDT gates and call/task gates: target below
  uint16_t target_selector = 0;
  uint64_t target_offset = 0;
};
// Entries [first, first + count) clipped to the table's limit.
std::vector<DescriptorView> gdt_view(const Debugger& d, unsigned first, unsigned count);
std::vector<DescriptorView> idt_view(const Debugger& d, unsigned first, unsigned count);
// The same for a table given by its register and read through `read`
// (the guest's own tables under a monitor, or the monitor's shadow ones;
// debugger/system_views.h): the GDT or an LDT (selectors with TI set),
// the IDT (the IVT in real mode).
using TableReader = std::function<size_t(uint64_t linear, uint8_t* out, size_t len)>;
TableReader linear_reader(const Debugger& d);  // Debugger::read_linear
std::vector<DescriptorView> descriptor_table_view(const TableRegister& t, bool ldt, bool ia32e, unsigned first,
                                                  unsigned count, const TableReader& read);
std::vector<DescriptorView> interrupt_table_view(const TableRegister& idtr, bool real_mode, bool ia32e,
                                                 unsigned first, unsigned count, const TableReader& read);

struct DisasmLine {
  uint64_t offset = 0;  // in CS
  uint64_t linear = 0;
  std::vector<uint8_t> bytes;
  std::string text;  // "(unmapped)" when the bytes cannot be read
};
// `count` instructions from CS:offset in the current code size.
std::vector<DisasmLine> disassemble(const Debugger& d, uint64_t offset, unsigned count, bool att);

// The walk the CPU would make for this access, level by level, with no side
// effects (format_walk in mmu/walk_explain.h lays it out).
WalkExplanation explain_walk(Debugger& d, uint64_t linear, Access access, bool user);

// The valid TLB entries, in slot order.
std::vector<Tlb::Entry> tlb_view(const Cpu& cpu);

}  // namespace vtlab
