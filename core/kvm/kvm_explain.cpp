#include "core/kvm/kvm_explain.h"

#include <fmt/format.h>
#include <linux/kvm.h>
#include <sys/stat.h>

namespace vtlab {

std::string kvm_host_module() {
  struct stat st;
  for (const char* m : {"kvm_intel", "kvm_amd", "kvm_pvm"})
    if (stat((std::string("/sys/module/") + m).c_str(), &st) == 0) return m;
  return "unknown";
}

std::string kvm_exit_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_UNKNOWN: return "unknown";
    case KVM_EXIT_EXCEPTION: return "exception";
    case KVM_EXIT_IO: return "io";
    case KVM_EXIT_HYPERCALL: return "hypercall";
    case KVM_EXIT_DEBUG: return "debug";
    case KVM_EXIT_HLT: return "hlt";
    case KVM_EXIT_MMIO: return "mmio";
    case KVM_EXIT_IRQ_WINDOW_OPEN: return "irq_window_open";
    case KVM_EXIT_SHUTDOWN: return "shutdown";
    case KVM_EXIT_FAIL_ENTRY: return "fail_entry";
    case KVM_EXIT_INTR: return "intr";
    case KVM_EXIT_INTERNAL_ERROR: return "internal_error";
    case KVM_EXIT_SYSTEM_EVENT: return "system_event";
    default: return fmt::format("{}", reason);
  }
}

std::string describe_mode(const CpuState& s) {
  const char* mode = s.real_mode()                ? "real mode"
                     : s.code_size() == 8         ? "64-bit long mode"
                     : s.long_mode_active()       ? "compatibility mode"
                     : s.code_size() == 4         ? "32-bit protected mode"
                                                  : "16-bit protected mode";
  return fmt::format("the guest was in {}, CPL {}, paging {}", mode, s.cpl(), s.paging() ? "on" : "off");
}

std::string paging_refused_reason() {
  return "the guest state has CR0.PG set outside long mode (32-bit or PAE paging): this host's KVM (" +
         kvm_host_module() + ") pages only in long mode and dropped CR0.PG";
}

namespace {
std::string hex_bytes(const std::string& code, size_t n) {
  std::string out;
  for (size_t i = 0; i < code.size() && i < n; ++i) out += fmt::format("{}{:02x}", i ? " " : "", uint8_t(code[i]));
  return out.empty() ? "unreadable" : out;
}
// MOV CR0, reg (0F 22 /r with reg field 0), and the source register's value.
bool is_mov_to_cr0(const std::string& c, const CpuState& s, uint64_t& value) {
  size_t i = 0;
  bool rex_b = false;
  if (i < c.size() && (uint8_t(c[i]) & 0xF0) == 0x40) rex_b = uint8_t(c[i++]) & 1;
  if (i + 2 >= c.size() || uint8_t(c[i]) != 0x0F || uint8_t(c[i + 1]) != 0x22) return false;
  const uint8_t modrm = uint8_t(c[i + 2]);
  if (((modrm >> 3) & 7) != 0) return false;
  value = s.gpr[(modrm & 7) | (rex_b ? 8 : 0)];
  return true;
}
}  // namespace

std::string explain_shutdown(const Cpu& cpu, const std::string& code) {
  const CpuState& s = cpu.s;
  const std::string where = fmt::format("at {:04x}:{:#x} ({}; code {})", s.seg[CS].selector, s.rip, describe_mode(s),
                                        hex_bytes(code, 8));
  const std::string module = kvm_host_module();
  uint64_t cr0_value = 0;
  if (!(s.efer & efer::LME) && is_mov_to_cr0(code, s, cr0_value) && (cr0_value & cr0::PG))
    return "hw-kvm: the guest shut down when it turned on 32-bit paging (MOV CR0 with PG=1 and EFER.LME=0), which "
           "this host's KVM (" + module + ") supports only in long mode " + where;
  if (s.cpl() == 3 && code.size() >= 2 && uint8_t(code[0]) == 0xCD)
    return fmt::format("hw-kvm: the guest shut down after INT {:#x} from ring 3: on this host's KVM ({}) INT n from CPL 3 "
                       "raises #UD, and the guest could not handle that {}", uint8_t(code[1]), module, where);
  if (s.cpl() == 3 && code.size() >= 2 && uint8_t(code[0]) == 0x0F && uint8_t(code[1]) == 0x05)
    return "hw-kvm: the guest shut down at a SYSCALL from ring 3, which this host's KVM (" + module +
           ") does not deliver to the guest kernel (boot minios64 with syscall=ud; docs/KVM.md) " + where;
  if (!s.long_mode_active() && module == "kvm_pvm")
    return "hw-kvm: the guest shut down (triple fault) outside long mode; this host's KVM (kvm_pvm) runs 32-bit code "
           "only without paging, through its instruction emulator " + where;
  return "hw-kvm: the guest shut down (triple fault, KVM_EXIT_SHUTDOWN) " + where;
}

std::string explain_emulation_failure(const Cpu& cpu, const std::string& code) {
  const CpuState& s = cpu.s;
  return fmt::format("hw-kvm: KVM's instruction emulator could not run the instruction at {:04x}:{:#x} (code {}); {}{}",
                     s.seg[CS].selector, s.rip, hex_bytes(code, 15), describe_mode(s),
                     kvm_host_module() == "kvm_pvm"
                         ? " (kvm_pvm emulates every CPL 0 instruction, and code outside RAM cannot run at all)"
                         : "");
}

}  // namespace vtlab
