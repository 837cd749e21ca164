// The system structures a debugger shows beside the registers: which GDT,
// IDT, LDT, TSS and page tables are the guest's own and which the real
// CPU runs on, the LDT and the TSS decoded (SDM vol. 3, 3.5.1 for the
// LDT; 7.2.1 / figure 7-2 for the 32-bit TSS, 7.6 for the 16-bit one,
// 7.7 / figure 7-11 for the 64-bit one), and the shadow page tables.
//
// With no monitor between (native, hw with EPT, pv's direct paging) the
// two are the same.  Under trap and bt the real CPU runs on the monitor's
// shadow descriptor tables, in monitor-private memory behind a window
// only its implicit accesses reach (privilege/shadow_descriptors.h), and
// on shadow page tables kept as entries per linear page, not as x86
// tables (privilege/shadow_mmu.h); what the guest loaded is the monitor's
// VirtualCpu (privilege/virtual_cpu.h).  hw without EPT keeps the guest's
// descriptor tables and CR3 in the real CPU but runs on shadow page tables.
// A pv guest has no tables of its own: the real CPU runs on the monitor's,
// in the same window, with the descriptors the guest registered.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "debugger/views.h"
#include "privilege/shadow_mmu.h"

namespace vtlab {

enum class TablesSide { Guest, Real };

struct SystemTables {
  TablesSide side = TablesSide::Guest;
  TableRegister gdtr, idtr;
  SegmentCache ldtr, tr;
  bool real_mode = false, ia32e = false;
  // Guest linear memory (Debugger::read_linear), or, for the real side
  // under trap/bt, the monitor's window read from its private memory.
  TableReader read;
  // Whose these are, for a label: "the guest's own (as it loaded them)", ...
  std::string whose;
};

// Whether the real CPU runs on descriptor tables (trap, bt) or page tables
// (trap, bt, hw without EPT) other than the guest's.
bool shadow_descriptor_tables(const Machine& m);
const ShadowMmu* shadow_page_tables(const Machine& m);

SystemTables system_tables(Debugger& d, TablesSide side);

// The LDT LDTR names: its entries (empty when LDTR is null or not present).
std::vector<DescriptorView> ldt_view(const SystemTables& t);

struct TssField {
  std::string name;  // "ESP0", "SS0", "IST3", "I/O map base", ...
  uint32_t offset = 0;
  uint64_t value = 0;
  unsigned size = 0;  // bytes
};
struct TssView {
  unsigned format = 0;  // 16, 32 or 64 (bits); 0: TR holds no TSS
  uint64_t base = 0;
  uint32_t limit = 0;
  bool readable = false;  // every field's bytes could be read
  std::vector<TssField> fields;
  // The I/O permission bitmap's place (32- and 64-bit TSSs): beyond the
  // limit means every port access from CPL > IOPL faults.
  bool io_map_in_limit = false;
};
TssView tss_view(const SystemTables& t);

// The paging registers of the tables a walk uses: the guest's own
// (TranslationHook::guest_paging through Cpu::walk_request).
struct PagingRegisters {
  uint64_t cr0 = 0, cr3 = 0, cr4 = 0;
};
PagingRegisters guest_paging(const Cpu& cpu);

}  // namespace vtlab
