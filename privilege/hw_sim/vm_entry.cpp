#include "privilege/hw_sim/vm_entry.h"

#include <fmt/format.h>

#include <bit>
#include <string_view>

namespace vtlab::vmx {

namespace {
constexpr uint32_t kUnusable = 1u << 16;
constexpr uint64_t kCr4Vmxe = uint64_t{1} << 13;
// IA32_VMX_CR0_FIXED0 / CR4_FIXED0: bits VMX operation requires set.
constexpr uint64_t kCr0Fixed0 = cr0::PE | cr0::NE | cr0::PG;
// IA32_VMX_CR4_FIXED1: the CR4 bits the modelled processor has.
constexpr uint64_t kCr4Fixed1 = 0x7FF | kCr4Vmxe;
constexpr uint64_t kEferBits = efer::SCE | efer::LME | efer::LMA | efer::NXE;
constexpr uint64_t kPhysMask = ~((uint64_t{1} << caps::kMaxPhysAddr) - 1);  // bits beyond MAXPHYADDR
constexpr std::array<std::string_view, GuestState::kSegs> kSegNames = {"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"};

constexpr std::string_view kControls = "27.2.1.1 VM-Execution Control Fields";
constexpr std::string_view kExitControls = "27.2.1.2 VM-Exit Control Fields";
constexpr std::string_view kEntryControls = "27.2.1.3 VM-Entry Control Fields";
constexpr std::string_view kHostCrs = "27.2.2 Checks on Host Control Registers, MSRs, and SSP";
constexpr std::string_view kHostSegs = "27.2.3 Checks on Host Segment and Descriptor-Table Registers";
constexpr std::string_view kAddressSpace = "27.2.4 Checks Related to Address-Space Size";
constexpr std::string_view kGuestCrs = "27.3.1.1 Checks on Guest Control Registers, Debug Registers, and MSRs";
constexpr std::string_view kGuestSegs = "27.3.1.2 Checks on Guest Segment Registers";
constexpr std::string_view kGuestTables = "27.3.1.3 Checks on Guest Descriptor-Table Registers";
constexpr std::string_view kGuestRipFlags = "27.3.1.4 Checks on Guest RIP, RFLAGS, and SSP";
constexpr std::string_view kGuestNonRegister = "27.3.1.5 Checks on Guest Non-Register State";

bool canonical(uint64_t v) { return static_cast<uint64_t>(static_cast<int64_t>(v << 16) >> 16) == v; }

// The first control bit that breaks the capability MSR `msr`.
std::string reserved_bits(uint32_t word, uint32_t must1, uint32_t may1, std::string_view msr) {
  for (unsigned b = 0; b < 32; ++b) {
    const bool set = (word >> b) & 1;
    if (((must1 >> b) & 1) && !set) return fmt::format("bit {} must be 1: {} allows it no 0-setting", b, msr);
    if (!((may1 >> b) & 1) && set)
      return fmt::format("bit {} must be 0: {} allows it no 1-setting (reserved, or not modelled)", b, msr);
  }
  return {};
}

uint32_t segment_ar(const SegmentCache& sc, bool unusable) { return sc.attrs | (unusable ? kUnusable : 0); }
}  // namespace

std::string EntryFailure::text() const {
  if (kind == Kind::NotModelled)
    return fmt::format("VM entry stopped (not modelled by vtlab): {} = {:#x}: {} (SDM {})", field, value, check,
                       section);
  const char* what = kind == Kind::Control     ? "VM-instruction error 7 (VM entry with invalid control field(s))"
                     : kind == Kind::HostState ? "VM-instruction error 8 (VM entry with invalid host-state field(s))"
                                               : "basic exit reason 33 (VM-entry failure due to invalid guest state)";
  return fmt::format("VM entry failed with {}: {} = {:#x}: {} (SDM {})", what, field, value, check, section);
}

uint32_t entry_controls(const CpuState& s, const Controls& c) {
  if (c.entry_controls) return *c.entry_controls;
  return caps::kEntryMust1 | caps::kEntryLoadEfer | (s.long_mode_active() ? caps::kEntryIa32eModeGuest : 0);
}

GuestState guest_state(const CpuState& s, const Controls& c) {
  GuestState g;
  const uint64_t required = cr0::NE | (c.unrestricted_guest ? 0 : cr0::PE | cr0::PG);
  g.cr0 = s.cr0 | (required & c.cr0_guest_host_mask);
  g.cr3 = s.cr3;
  g.cr4 = s.cr4 | kCr4Vmxe;
  g.efer = s.efer;
  g.rflags = s.flags.bits();
  g.rip = s.rip;
  for (unsigned i = 0; i < kNumSegRegs; ++i) {
    const SegmentCache& sc = s.seg[i];
    const bool unusable = i != CS && s.protected_mode() && !sc.present();
    g.seg[i] = {sc.selector, sc.base, sc.limit, segment_ar(sc, unusable)};
  }
  g.seg[GuestState::LDTR] = {s.ldtr.selector, s.ldtr.base, s.ldtr.limit,
                             segment_ar(s.ldtr, (s.ldtr.selector & ~3u) == 0 || !s.ldtr.present())};
  g.seg[GuestState::TR] = {s.tr.selector, s.tr.base, s.tr.limit, segment_ar(s.tr, false)};
  g.gdtr_limit = s.gdtr.limit;
  g.idtr_limit = s.idtr.limit;
  for (const auto& [name, v] : c.guest) {
    if (name == "guest_cr0") g.cr0 = v;
    else if (name == "guest_cr3") g.cr3 = v;
    else if (name == "guest_cr4") g.cr4 = v;
    else if (name == "guest_ia32_efer") g.efer = v;
    else if (name == "guest_rflags") g.rflags = v;
    else if (name == "guest_rip") g.rip = v;
    else if (name == "guest_gdtr_limit") g.gdtr_limit = static_cast<uint32_t>(v);
    else if (name == "guest_idtr_limit") g.idtr_limit = static_cast<uint32_t>(v);
    else if (name == "guest_activity_state") g.activity_state = static_cast<uint32_t>(v);
    else if (name == "guest_interruptibility_state") g.interruptibility = static_cast<uint32_t>(v);
    else if (name == "guest_pending_debug_exceptions") g.pending_debug = v;
    else if (name == "vmcs_link_pointer") g.vmcs_link_pointer = v;
    for (unsigned i = 0; i < GuestState::kSegs; ++i) {
      const std::string prefix = fmt::format("guest_{}_", kSegNames[i]);
      if (!name.starts_with(prefix)) continue;
      const std::string_view part = std::string_view(name).substr(prefix.size());
      GuestState::Segment& seg = g.seg[i];
      if (part == "selector") seg.selector = static_cast<uint16_t>(v);
      else if (part == "base") seg.base = v;
      else if (part == "limit") seg.limit = static_cast<uint32_t>(v);
      else if (part == "access_rights") seg.access_rights = static_cast<uint32_t>(v);
    }
  }
  return g;
}

void load_given_guest_state(CpuState& s, const Controls& c, const GuestState& g) {
  if (c.guest.empty()) return;
  const auto given = [&](std::string_view name) { return c.guest.find(name) != c.guest.end(); };
  if (given("guest_cr0")) s.cr0 = g.cr0;
  if (given("guest_cr3")) s.cr3 = g.cr3;
  if (given("guest_cr4")) s.cr4 = g.cr4;
  if (given("guest_ia32_efer")) s.efer = g.efer;
  if (given("guest_rflags")) s.flags.set_bits(g.rflags);
  if (given("guest_rip")) s.rip = g.rip;
  if (given("guest_gdtr_limit")) s.gdtr.limit = g.gdtr_limit;
  if (given("guest_idtr_limit")) s.idtr.limit = g.idtr_limit;
  for (unsigned i = 0; i < GuestState::kSegs; ++i) {
    SegmentCache& sc = i == GuestState::LDTR ? s.ldtr : i == GuestState::TR ? s.tr : s.seg[i];
    const GuestState::Segment& seg = g.seg[i];
    const std::string prefix = fmt::format("guest_{}_", kSegNames[i]);
    if (given(prefix + "selector")) sc.selector = seg.selector;
    if (given(prefix + "base")) sc.base = seg.base;
    if (given(prefix + "limit")) sc.limit = seg.limit;
    if (given(prefix + "access_rights"))
      sc.attrs = seg.access_rights & ~kUnusable & ~((seg.access_rights & kUnusable) ? ar::kPresent : 0u);
  }
}

namespace {

// SDM 27.3.1.5 after the activity state's own values: blocking that needs
// the active state, the interruptibility state, the pending debug
// exceptions and the VMCS link pointer (no event injection is modelled,
// so the checks against the VM-entry interruption-information field never
// apply).
std::optional<EntryFailure> check_non_register_state(const GuestState& g) {
  const auto fail = [](std::string field, uint64_t value, std::string check) {
    return EntryFailure{EntryFailure::Kind::GuestState, std::string(kGuestNonRegister), std::move(field), value,
                        std::move(check)};
  };
  constexpr uint32_t kBlockingBySti = 1, kBlockingByMovSs = 2, kBlockingBySmi = 4, kEnclaveInterruption = 16;
  const uint32_t blocking = g.interruptibility & (kBlockingBySti | kBlockingByMovSs);
  if (g.activity_state != 0 && blocking)
    return fail("guest_activity_state", g.activity_state,
                fmt::format("must be 0 (active) while the interruptibility state ({:#x}) blocks by {}",
                            g.interruptibility, (blocking & kBlockingBySti) ? "STI" : "MOV SS"));

  const uint32_t i = g.interruptibility;
  const auto bad_interruptibility = [&](std::string check) {
    return fail("guest_interruptibility_state", i, std::move(check));
  };
  if (i & ~0x1Fu)
    return bad_interruptibility(fmt::format("reserved bit {} must be 0 (bits 31:5)", std::countr_zero(i & ~0x1Fu)));
  if ((i & kBlockingBySti) && (i & kBlockingByMovSs))
    return bad_interruptibility("bits 0 (blocking by STI) and 1 (blocking by MOV SS) cannot both be 1");
  if ((i & kBlockingBySti) && !(g.rflags & flag::IF))
    return bad_interruptibility(fmt::format("bit 0 (blocking by STI) must be 0 while RFLAGS.IF is 0 (guest_rflags = {:#x})",
                                            g.rflags));
  if (i & kBlockingBySmi) return bad_interruptibility("bit 2 (blocking by SMI) must be 0 outside SMM");
  if (i & kEnclaveInterruption)
    return bad_interruptibility("bit 4 (enclave interruption) must be 0: the modelled processor has no SGX "
                                "(CPUID.(EAX=07H,ECX=0):EBX[2] = 0)");

  const uint64_t p = g.pending_debug;
  const auto bad_pending = [&](std::string check) { return fail("guest_pending_debug_exceptions", p, std::move(check)); };
  constexpr uint64_t kPendingReserved = ~uint64_t{0x1FFFF} | 0xFF0 | (1u << 13) | (1u << 15);
  constexpr uint64_t kBs = 1u << 14, kRtm = 1u << 16;
  if (p & kPendingReserved)
    return bad_pending(fmt::format("reserved bit {} must be 0 (bits 11:4, 13, 15 and 63:17)",
                                   std::countr_zero(p & kPendingReserved)));
  if (p & kRtm)
    return bad_pending("bit 16 (RTM) must be 0: the modelled processor has no RTM (CPUID.(EAX=07H,ECX=0):EBX[11] = 0)");
  // IA32_DEBUGCTL is not modelled: its BTF is 0, so BS must equal TF.
  if (blocking || g.activity_state == 1) {
    const bool tf = g.rflags & flag::TF;
    if (tf && !(p & kBs))
      return bad_pending(fmt::format("bit 14 (BS) must be 1: RFLAGS.TF is 1 (and IA32_DEBUGCTL.BTF 0) with {}",
                                     blocking ? "blocking by STI or MOV SS" : "the activity state HLT"));
    if (!tf && (p & kBs))
      return bad_pending(fmt::format("bit 14 (BS) must be 0: RFLAGS.TF is 0 with {}",
                                     blocking ? "blocking by STI or MOV SS" : "the activity state HLT"));
  }

  const uint64_t link = g.vmcs_link_pointer;
  if (link != ~uint64_t{0}) {
    const auto bad_link = [&](std::string check) { return fail("vmcs_link_pointer", link, std::move(check)); };
    if (link & 0xFFF) return bad_link("bits 11:0 must be 0 (4-KByte aligned) unless the field is FFFFFFFF_FFFFFFFFH");
    if (link & kPhysMask) return bad_link(fmt::format("bits 63:{} (beyond MAXPHYADDR) must be 0", caps::kMaxPhysAddr));
    return bad_link("the 4 bytes it points at must hold the VMCS revision identifier, with bit 31 equal to \"VMCS "
                    "shadowing\" (0): vtlab keeps no VMCS regions in guest memory and does not model VMCS shadowing, "
                    "so the field must be FFFFFFFF_FFFFFFFFH");
  }
  return std::nullopt;
}

}  // namespace

std::optional<EntryFailure> check_vm_entry(const Controls& c, uint32_t entry, const GuestState& g) {
  using Kind = EntryFailure::Kind;
  const auto fail = [](Kind k, std::string_view section, std::string field, uint64_t value, std::string check) {
    return EntryFailure{k, std::string(section), std::move(field), value, std::move(check)};
  };
  // --- 27.2.1: the control fields.
  const uint32_t pin = c.pin_word(), primary = c.primary_word(), secondary = c.secondary_word();
  if (auto why = reserved_bits(pin, caps::kPinMust1, caps::kPinMay1, "IA32_VMX_TRUE_PINBASED_CTLS"); !why.empty())
    return fail(Kind::Control, kControls, "pin_based_controls", pin, why);
  if (auto why = reserved_bits(primary, caps::kPrimaryMust1, caps::kPrimaryMay1, "IA32_VMX_TRUE_PROCBASED_CTLS");
      !why.empty())
    return fail(Kind::Control, kControls, "primary_processor_based_controls", primary, why);
  if (primary & caps::kActivateSecondary)
    if (auto why = reserved_bits(secondary, 0, caps::kSecondaryMay1, "IA32_VMX_PROCBASED_CTLS2"); !why.empty())
      return fail(Kind::Control, kControls, "secondary_processor_based_controls", secondary, why);
  if (c.cr3_target_count > 4)
    return fail(Kind::Control, kControls, "cr3_target_count", c.cr3_target_count, "the CR3-target count must not be greater than 4");
  if (c.enable_vpid && c.vpid == 0)
    return fail(Kind::Control, kControls, "vpid", 0, "with \"enable VPID\" 1 the VPID must not be 0000H");
  if (c.enable_ept) {
    const uint64_t eptp = c.ept_pointer.value_or(6 | (3 << 3));
    const auto bad = [&](std::string check) { return fail(Kind::Control, kControls, "ept_pointer", eptp, std::move(check)); };
    if ((eptp & 7) != 0 && (eptp & 7) != 6)
      return bad("the EPT paging-structure memory type (bits 2:0) must be 0 (UC) or 6 (WB), as IA32_VMX_EPT_VPID_CAP "
                 "bits 8 and 14 allow");
    if (((eptp >> 3) & 7) != 3)
      return bad("bits 5:3 (EPT page-walk length - 1) must be 3: the modelled processor walks 4 levels "
                 "(IA32_VMX_EPT_VPID_CAP bit 6)");
    if (eptp & (1u << 6))
      return bad("bit 6 (accessed and dirty flags for EPT) must be 0: IA32_VMX_EPT_VPID_CAP bit 21 is 0 on the "
                 "modelled processor");
    if (eptp & 0xF80) return bad("bits 11:7 are reserved and must be 0");
    if (eptp & kPhysMask) return bad(fmt::format("bits 63:{} (beyond MAXPHYADDR) must be 0", caps::kMaxPhysAddr));
  }
  if (auto why = reserved_bits(c.exit_controls, caps::kExitMust1, caps::kExitMay1, "IA32_VMX_TRUE_EXIT_CTLS");
      !why.empty())
    return fail(Kind::Control, kExitControls, "vm_exit_controls", c.exit_controls, why);
  if (auto why = reserved_bits(entry, caps::kEntryMust1, caps::kEntryMay1, "IA32_VMX_TRUE_ENTRY_CTLS"); !why.empty())
    return fail(Kind::Control, kEntryControls, "vm_entry_controls", entry, why);
  if (const uint64_t count = c.entry_msr_load_count; count != 0) {
    const uint64_t addr = c.entry_msr_load_address;
    const auto bad = [&](std::string check) {
      return fail(Kind::Control, kEntryControls, "vm_entry_msr_load_address", addr, std::move(check));
    };
    if (addr & 0xF) return bad("with a non-zero MSR-load count, bits 3:0 must be 0 (16-byte aligned)");
    if (addr & kPhysMask) return bad(fmt::format("bits 63:{} (beyond MAXPHYADDR) must be 0", caps::kMaxPhysAddr));
    if ((addr + count * 16 - 1) & kPhysMask)
      return bad(fmt::format("the area's last byte ({:#x}, {} entries of 16 bytes) must lie below MAXPHYADDR (36 bits)",
                             addr + count * 16 - 1, count));
  }
  if (entry & caps::kEntryToSmm)
    return fail(Kind::Control, kEntryControls, "vm_entry_controls", entry, "\"entry to SMM\" (bit 10) must be 0 outside SMM");
  if (entry & caps::kEntryDeactivateDualMonitor)
    return fail(Kind::Control, kEntryControls, "vm_entry_controls", entry,
                "\"deactivate dual-monitor treatment\" (bit 11) must be 0 outside SMM");

  // --- 27.2.2-27.2.4: the host-state area.
  for (uint64_t bit : {cr0::PE, cr0::NE, cr0::PG})
    if (!(c.host_cr0 & bit))
      return fail(Kind::HostState, kHostCrs, "host_cr0", c.host_cr0,
                  fmt::format("bit {} must be 1: IA32_VMX_CR0_FIXED0 (PE, NE, PG)", std::countr_zero(bit)));
  if (c.host_cr0 >> 32) return fail(Kind::HostState, kHostCrs, "host_cr0", c.host_cr0, "bits 63:32 must be 0: IA32_VMX_CR0_FIXED1");
  if (!(c.host_cr4 & kCr4Vmxe))
    return fail(Kind::HostState, kHostCrs, "host_cr4", c.host_cr4, "bit 13 (VMXE) must be 1: IA32_VMX_CR4_FIXED0");
  if (c.host_cr4 & ~kCr4Fixed1)
    return fail(Kind::HostState, kHostCrs, "host_cr4", c.host_cr4,
                fmt::format("bit {} must be 0: IA32_VMX_CR4_FIXED1", std::countr_zero(c.host_cr4 & ~kCr4Fixed1)));
  if (c.host_cr3 & kPhysMask)
    return fail(Kind::HostState, kHostCrs, "host_cr3", c.host_cr3, "bits beyond MAXPHYADDR (63:36) must be 0");
  static constexpr std::array<std::string_view, 7> kHostSel = {"es", "cs", "ss", "ds", "fs", "gs", "tr"};
  for (size_t i = 0; i < kHostSel.size(); ++i)
    if (c.host_selectors[i] & 7)
      return fail(Kind::HostState, kHostSegs, fmt::format("host_{}_selector", kHostSel[i]), c.host_selectors[i],
                  "RPL (bits 1:0) and TI (bit 2) must be 0");
  if (c.host_selectors[1] == 0)
    return fail(Kind::HostState, kHostSegs, "host_cs_selector", 0, "the selector for CS must not be 0000H");
  if (c.host_selectors[6] == 0)
    return fail(Kind::HostState, kHostSegs, "host_tr_selector", 0, "the selector for TR must not be 0000H");
  const bool host64 = c.exit_controls & caps::kExitHostAddressSpaceSize;
  if (!host64)
    return fail(Kind::HostState, kAddressSpace, "vm_exit_controls", c.exit_controls,
                "the processor is in IA-32e mode (the monitor is a 64-bit host), so \"host address-space size\" (bit 9) "
                "must be 1");
  if (!(c.host_cr4 & cr4::PAE))
    return fail(Kind::HostState, kAddressSpace, "host_cr4", c.host_cr4,
                "with \"host address-space size\" 1, bit 5 (PAE) must be 1");

  // --- 27.3.1: the guest-state area.
  const bool ia32e = entry & caps::kEntryIa32eModeGuest;
  const bool ug = c.unrestricted_guest;
  const uint64_t fixed0 = ug ? cr0::NE : kCr0Fixed0;
  for (unsigned b = 0; b < 32; ++b)
    if (((fixed0 >> b) & 1) && !((g.cr0 >> b) & 1))
      return fail(Kind::GuestState, kGuestCrs, "guest_cr0", g.cr0,
                  fmt::format("bit {} must be 1: IA32_VMX_CR0_FIXED0{}", b,
                              ug ? " (PE and PG are not checked with \"unrestricted guest\")" : ""));
  if (g.cr0 >> 32) return fail(Kind::GuestState, kGuestCrs, "guest_cr0", g.cr0, "bits 63:32 must be 0: IA32_VMX_CR0_FIXED1");
  if (ug && (g.cr0 & cr0::PG) && !(g.cr0 & cr0::PE))
    return fail(Kind::GuestState, kGuestCrs, "guest_cr0", g.cr0, "with bit 31 (PG) set, bit 0 (PE) must be set");
  if (!(g.cr4 & kCr4Vmxe))
    return fail(Kind::GuestState, kGuestCrs, "guest_cr4", g.cr4, "bit 13 (VMXE) must be 1: IA32_VMX_CR4_FIXED0");
  if (g.cr4 & ~kCr4Fixed1)
    return fail(Kind::GuestState, kGuestCrs, "guest_cr4", g.cr4,
                fmt::format("bit {} must be 0: IA32_VMX_CR4_FIXED1", std::countr_zero(g.cr4 & ~kCr4Fixed1)));
  if (ia32e && !(g.cr0 & cr0::PG))
    return fail(Kind::GuestState, kGuestCrs, "guest_cr0", g.cr0, "with \"IA-32e mode guest\" 1, bit 31 (PG) must be 1");
  if (ia32e && !(g.cr4 & cr4::PAE))
    return fail(Kind::GuestState, kGuestCrs, "guest_cr4", g.cr4, "with \"IA-32e mode guest\" 1, bit 5 (PAE) must be 1");
  if (g.cr3 & kPhysMask)
    return fail(Kind::GuestState, kGuestCrs, "guest_cr3", g.cr3, "bits beyond MAXPHYADDR (63:36) must be 0");
  if (entry & caps::kEntryLoadEfer) {
    if (g.efer & ~kEferBits)
      return fail(Kind::GuestState, kGuestCrs, "guest_ia32_efer", g.efer,
                  fmt::format("reserved bit {} must be 0", std::countr_zero(g.efer & ~kEferBits)));
    if (bool(g.efer & efer::LMA) != ia32e)
      return fail(Kind::GuestState, kGuestCrs, "guest_ia32_efer", g.efer,
                  "bit 10 (LMA) must equal \"IA-32e mode guest\" with \"load IA32_EFER\" 1");
    if ((g.cr0 & cr0::PG) && bool(g.efer & efer::LMA) != bool(g.efer & efer::LME))
      return fail(Kind::GuestState, kGuestCrs, "guest_ia32_efer", g.efer, "with CR0.PG set, bit 10 (LMA) must equal bit 8 (LME)");
  }

  const bool v8086 = g.rflags & flag::VM;
  const auto& cs = g.seg[GuestState::CS];
  const auto& ss = g.seg[GuestState::SS];
  const auto& tr = g.seg[GuestState::TR];
  const auto& ldtr = g.seg[GuestState::LDTR];
  const auto seg_fail = [&](unsigned i, std::string_view part, uint64_t value, std::string check) {
    return fail(Kind::GuestState, kGuestSegs, fmt::format("guest_{}_{}", kSegNames[i], part), value, std::move(check));
  };
  if (tr.selector & 4) return seg_fail(GuestState::TR, "selector", tr.selector, "TI (bit 2) must be 0");
  if (!(ldtr.access_rights & kUnusable) && (ldtr.selector & 4))
    return seg_fail(GuestState::LDTR, "selector", ldtr.selector, "TI (bit 2) must be 0 while LDTR is usable");
  if (!v8086 && !ug && (ss.selector & 3) != (cs.selector & 3))
    return seg_fail(GuestState::SS, "selector", ss.selector,
                    fmt::format("RPL (bits 1:0) must equal CS's RPL ({})", cs.selector & 3));
  // A virtual-8086 guest's CS, SS, DS, ES, FS and GS are real-mode-like
  // segments: base = selector << 4, limit 0xFFFF, access rights 0xF3.
  static constexpr std::array<unsigned, 6> kV86Order = {GuestState::CS, GuestState::SS, GuestState::DS,
                                                        GuestState::ES, GuestState::FS, GuestState::GS};
  if (v8086) {
    for (unsigned i : kV86Order)
      if (g.seg[i].base != uint64_t{g.seg[i].selector} << 4)
        return seg_fail(i, "base", g.seg[i].base,
                        fmt::format("with RFLAGS.VM 1 (a virtual-8086 guest) the base must be the selector shifted "
                                    "left 4 bits ({:#x})", uint32_t{g.seg[i].selector} << 4));
  }
  for (unsigned i : {GuestState::TR, GuestState::FS, GuestState::GS, GuestState::LDTR})
    if (!canonical(g.seg[i].base) && (i == GuestState::TR || !(g.seg[i].access_rights & kUnusable)))
      return seg_fail(i, "base", g.seg[i].base, "the base address must be canonical");
  if (cs.base >> 32) return seg_fail(GuestState::CS, "base", cs.base, "bits 63:32 of the base must be 0");
  for (unsigned i : {GuestState::SS, GuestState::DS, GuestState::ES})
    if (!(g.seg[i].access_rights & kUnusable) && (g.seg[i].base >> 32))
      return seg_fail(i, "base", g.seg[i].base, "bits 63:32 of the base must be 0 while the register is usable");
  if (v8086) {
    for (unsigned i : kV86Order)
      if (g.seg[i].limit != 0xFFFF)
        return seg_fail(i, "limit", g.seg[i].limit, "with RFLAGS.VM 1 (a virtual-8086 guest) the limit must be 0xffff");
    for (unsigned i : kV86Order)
      if (g.seg[i].access_rights != 0xF3)
        return seg_fail(i, "access_rights", g.seg[i].access_rights,
                        "with RFLAGS.VM 1 (a virtual-8086 guest) the access rights must be 0xf3 (present, DPL 3, "
                        "read/write accessed data, usable)");
  } else {
    const unsigned cs_type = cs.access_rights & 0xF, cs_dpl = (cs.access_rights >> 5) & 3,
                   ss_dpl = (ss.access_rights >> 5) & 3;
    const auto ar_fail = [&](unsigned i, std::string check) {
      return seg_fail(i, "access_rights", g.seg[i].access_rights, std::move(check));
    };
    if (!(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 || (ug && cs_type == 3)))
      return ar_fail(GuestState::CS, fmt::format("the type must be 9, 11, 13 or 15 (accessed code){}, not {}",
                                                 ug ? ", or 3 with \"unrestricted guest\"" : "", cs_type));
    for (unsigned i = 0; i < kNumSegRegs; ++i) {
      const uint32_t a = g.seg[i].access_rights;
      if (i != GuestState::CS && (a & kUnusable)) continue;
      const unsigned type = a & 0xF;
      if (i == GuestState::SS && type != 3 && type != 7)
        return ar_fail(i, fmt::format("the type must be 3 or 7 (read/write accessed data), not {}", type));
      if (i != GuestState::CS && i != GuestState::SS) {
        if (!(type & 1)) return ar_fail(i, "the type's accessed bit (bit 0) must be 1");
        if ((type & 8) && !(type & 2)) return ar_fail(i, "a code segment's type must be readable (bit 1)");
      }
      if (!(a & ar::kS)) return ar_fail(i, "S (bit 4) must be 1: a code or data segment");
      if (!(a & ar::kPresent)) return ar_fail(i, "P (bit 7) must be 1");
      if (a & 0xF00) return ar_fail(i, "bits 11:8 are reserved and must be 0");
      if (a & 0xFFFE0000u) return ar_fail(i, "bits 31:17 are reserved and must be 0");
      const uint32_t limit = g.seg[i].limit;
      if ((limit & 0xFFF) != 0xFFF && (a & ar::kGranularity))
        return ar_fail(i, fmt::format("G (bit 15) must be 0: limit {:#x} has a 0 in bits 11:0", limit));
      if ((limit & 0xFFF00000u) && !(a & ar::kGranularity))
        return ar_fail(i, fmt::format("G (bit 15) must be 1: limit {:#x} has a 1 in bits 31:20", limit));
      const unsigned dpl = (a >> 5) & 3, rpl = g.seg[i].selector & 3;
      if (i != GuestState::CS && i != GuestState::SS && !ug && type <= 11 && dpl < rpl)
        return ar_fail(i, fmt::format("DPL ({}) must not be less than the selector's RPL ({})", dpl, rpl));
    }
    if (cs_type == 3 && cs_dpl != 0) return ar_fail(GuestState::CS, "with type 3, DPL must be 0");
    if ((cs_type == 9 || cs_type == 11) && cs_dpl != ss_dpl)
      return ar_fail(GuestState::CS, fmt::format("a non-conforming code segment's DPL ({}) must equal SS's DPL ({})",
                                                 cs_dpl, ss_dpl));
    if ((cs_type == 13 || cs_type == 15) && cs_dpl > ss_dpl)
      return ar_fail(GuestState::CS, fmt::format("a conforming code segment's DPL ({}) must not exceed SS's DPL ({})",
                                                 cs_dpl, ss_dpl));
    if (!ug && ss_dpl != (ss.selector & 3u))
      return ar_fail(GuestState::SS, fmt::format("DPL ({}) must equal the selector's RPL ({})", ss_dpl, ss.selector & 3));
    if ((cs_type == 3 || !(g.cr0 & cr0::PE)) && ss_dpl != 0)
      return ar_fail(GuestState::SS, "DPL must be 0 with CS type 3 or CR0.PE 0");
    if (ia32e && (cs.access_rights & ar::kLong) && (cs.access_rights & ar::kDb))
      return ar_fail(GuestState::CS, "with \"IA-32e mode guest\" and L (bit 13) set, D/B (bit 14) must be 0");
  }
  {
    const uint32_t a = tr.access_rights, type = a & 0xF;
    const auto tr_fail = [&](std::string check) { return seg_fail(GuestState::TR, "access_rights", a, std::move(check)); };
    if (ia32e ? type != 11 : (type != 3 && type != 11))
      return tr_fail(fmt::format("the type must be {}, not {}", ia32e ? "11 (busy 64-bit TSS)" : "3 or 11 (a busy TSS)", type));
    if (a & ar::kS) return tr_fail("S (bit 4) must be 0: a system segment");
    if (!(a & ar::kPresent)) return tr_fail("P (bit 7) must be 1");
    if (a & 0xF00) return tr_fail("bits 11:8 are reserved and must be 0");
    if (a & kUnusable) return tr_fail("TR must be usable (bit 16 must be 0)");
    if (a & 0xFFFE0000u) return tr_fail("bits 31:17 are reserved and must be 0");
    if ((tr.limit & 0xFFF) != 0xFFF && (a & ar::kGranularity)) return tr_fail("G (bit 15) must be 0: the limit has a 0 in bits 11:0");
    if ((tr.limit & 0xFFF00000u) && !(a & ar::kGranularity)) return tr_fail("G (bit 15) must be 1: the limit has a 1 in bits 31:20");
  }
  if (!(ldtr.access_rights & kUnusable)) {
    const uint32_t a = ldtr.access_rights;
    const auto ldtr_fail = [&](std::string check) { return seg_fail(GuestState::LDTR, "access_rights", a, std::move(check)); };
    if ((a & 0xF) != 2) return ldtr_fail(fmt::format("the type must be 2 (LDT), not {}", a & 0xF));
    if (a & ar::kS) return ldtr_fail("S (bit 4) must be 0: a system segment");
    if (!(a & ar::kPresent)) return ldtr_fail("P (bit 7) must be 1");
    if (a & 0xFFFE0F00u) return ldtr_fail("bits 11:8 and 31:17 are reserved and must be 0");
  }
  if (g.gdtr_limit >> 16)
    return fail(Kind::GuestState, kGuestTables, "guest_gdtr_limit", g.gdtr_limit, "bits 31:16 must be 0");
  if (g.idtr_limit >> 16)
    return fail(Kind::GuestState, kGuestTables, "guest_idtr_limit", g.idtr_limit, "bits 31:16 must be 0");

  const bool long_cs = ia32e && (cs.access_rights & ar::kLong);
  if (!long_cs && (g.rip >> 32))
    return fail(Kind::GuestState, kGuestRipFlags, "guest_rip", g.rip,
                "bits 63:32 must be 0 outside 64-bit code (\"IA-32e mode guest\" 0 or CS.L 0)");
  if (long_cs && !canonical(g.rip))
    return fail(Kind::GuestState, kGuestRipFlags, "guest_rip", g.rip, "bits 63:48 must equal bit 47 in 64-bit code");
  constexpr uint64_t kRflagsReserved = ~uint64_t{0x3FFFFF} | (1u << 15) | (1u << 5) | (1u << 3);
  if (g.rflags & kRflagsReserved)
    return fail(Kind::GuestState, kGuestRipFlags, "guest_rflags", g.rflags,
                fmt::format("reserved bit {} must be 0 (bits 63:22, 15, 5 and 3)", std::countr_zero(g.rflags & kRflagsReserved)));
  if (!(g.rflags & 2)) return fail(Kind::GuestState, kGuestRipFlags, "guest_rflags", g.rflags, "bit 1 must be 1");
  if (v8086 && (ia32e || !(g.cr0 & cr0::PE)))
    return fail(Kind::GuestState, kGuestRipFlags, "guest_rflags", g.rflags,
                "VM (bit 17) must be 0 with \"IA-32e mode guest\" 1 or CR0.PE 0");

  switch (g.activity_state) {
    case 0: break;
    case 1:
      if (ss.access_rights & ar::kDplMask)
        return fail(Kind::GuestState, kGuestNonRegister, "guest_activity_state", 1,
                    fmt::format("HLT (1) needs SS.DPL 0, and SS.DPL is {}", (ss.access_rights >> 5) & 3));
      break;
    case 2:
    case 3:
      return fail(Kind::GuestState, kGuestNonRegister, "guest_activity_state", g.activity_state,
                  fmt::format("{} is not supported: IA32_VMX_MISC bit {} is 0 on the modelled processor",
                              g.activity_state == 2 ? "shutdown (2)" : "wait-for-SIPI (3)", 5 + g.activity_state));
    default:
      return fail(Kind::GuestState, kGuestNonRegister, "guest_activity_state", g.activity_state,
                  "the activity state must be 0 (active), 1 (HLT), 2 (shutdown) or 3 (wait-for-SIPI)");
  }
  if (auto failed = check_non_register_state(g)) return failed;

  // --- 27.4: everything checked; a real processor now loads the MSRs.
  if (c.entry_msr_load_count != 0)
    return fail(Kind::NotModelled, "27.4 Loading MSRs", "vm_entry_msr_load_count", c.entry_msr_load_count,
                "loading MSRs on VM entry is not modelled: the count must be 0");
  return std::nullopt;
}

}  // namespace vtlab::vmx
