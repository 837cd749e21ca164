#include "core/kvm/kvm_state.h"

#include <cstring>

#include "core/isa/x87_state.h"

namespace vtlab {

namespace {
constexpr uint32_t kUnusable = 1u << 16;  // VMX access rights: segment unusable

// Byte offsets in the legacy region (SDM vol. 1, table 10-2, 64-bit
// layout) and of XSTATE_BV in the header that follows it.
constexpr size_t kFcw = 0, kFsw = 2, kFtw = 4, kFop = 6, kFip = 8, kFdp = 16, kMxcsr = 24, kSt = 32, kXmm = 160,
                 kXstateBv = 512;
constexpr uint8_t kX87AndSse = 3;  // XSTATE_BV bits 0 (x87) and 1 (SSE)

template <typename T> void put(uint8_t* image, size_t at, T v) { std::memcpy(image + at, &v, sizeof v); }
template <typename T> T get(const uint8_t* image, size_t at) {
  T v;
  std::memcpy(&v, image + at, sizeof v);
  return v;
}
}  // namespace

kvm_segment to_kvm(const SegmentCache& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = static_cast<uint8_t>(s.attrs & ar::kTypeMask);
  k.s = (s.attrs & ar::kS) ? 1 : 0;
  k.dpl = static_cast<uint8_t>(s.dpl());
  k.present = s.present() ? 1 : 0;
  k.avl = (s.attrs & ar::kAvl) ? 1 : 0;
  k.l = (s.attrs & ar::kLong) ? 1 : 0;
  k.db = (s.attrs & ar::kDb) ? 1 : 0;
  k.g = (s.attrs & ar::kGranularity) ? 1 : 0;
  k.unusable = (!s.present() || (s.attrs & kUnusable)) ? 1 : 0;
  return k;
}

SegmentCache from_kvm(const kvm_segment& k) {
  SegmentCache s;
  s.base = k.base;
  s.limit = k.limit;
  s.selector = k.selector;
  s.attrs = (k.type & ar::kTypeMask) | (k.s ? ar::kS : 0) | (uint32_t{k.dpl} & 3) << ar::kDplShift |
            (k.present ? ar::kPresent : 0) | (k.avl ? ar::kAvl : 0) | (k.l ? ar::kLong : 0) |
            (k.db ? ar::kDb : 0) | (k.g ? ar::kGranularity : 0);
  return s;
}

void to_kvm(const CpuState& s, kvm_regs& r) {
  __u64* g[16] = {&r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi,
                  &r.r8,  &r.r9,  &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15};
  for (int i = 0; i < 16; ++i) *g[i] = s.gpr[i];
  r.rip = s.rip;
  r.rflags = s.flags.bits();
}

void from_kvm(const kvm_regs& r, CpuState& s) {
  const __u64 g[16] = {r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi, r.rdi,
                       r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13, r.r14, r.r15};
  for (int i = 0; i < 16; ++i) s.gpr[i] = g[i];
  s.rip = r.rip;
  s.flags.set_bits(r.rflags);
}

void to_kvm(const CpuState& s, kvm_sregs& r) {
  kvm_segment* seg[kNumSegRegs] = {&r.es, &r.cs, &r.ss, &r.ds, &r.fs, &r.gs};
  for (int i = 0; i < kNumSegRegs; ++i) *seg[i] = to_kvm(s.seg[i]);
  r.tr = to_kvm(s.tr);
  r.ldt = to_kvm(s.ldtr);
  r.gdt = kvm_dtable{s.gdtr.base, static_cast<__u16>(s.gdtr.limit), {}};
  r.idt = kvm_dtable{s.idtr.base, static_cast<__u16>(s.idtr.limit), {}};
  r.cr0 = s.cr0;
  r.cr2 = s.cr2;
  r.cr3 = s.cr3;
  r.cr4 = s.cr4;
  r.cr8 = s.cr8;
  r.efer = s.efer;
}

void from_kvm(const kvm_sregs& r, CpuState& s) {
  const kvm_segment* seg[kNumSegRegs] = {&r.es, &r.cs, &r.ss, &r.ds, &r.fs, &r.gs};
  for (int i = 0; i < kNumSegRegs; ++i) s.seg[i] = from_kvm(*seg[i]);
  s.tr = from_kvm(r.tr);
  s.ldtr = from_kvm(r.ldt);
  s.gdtr = TableRegister{r.gdt.base, r.gdt.limit};
  s.idtr = TableRegister{r.idt.base, r.idt.limit};
  s.cr0 = r.cr0;
  s.cr2 = r.cr2;
  s.cr3 = r.cr3;
  s.cr4 = r.cr4;
  s.cr8 = r.cr8;
  s.efer = r.efer;
}

void to_kvm(const CpuState& s, KvmMsrs& m) {
  m = KvmMsrs{};
  m.nmsrs = kKvmMsrs.size();
  for (size_t i = 0; i < kKvmMsrs.size(); ++i) m.entries[i] = kvm_msr_entry{kKvmMsrs[i], 0, s.msr(kKvmMsrs[i])};
}

void from_kvm(const KvmMsrs& m, CpuState& s) {
  for (size_t i = 0; i < kKvmMsrs.size() && i < m.nmsrs; ++i) {
    // An MSR the guest never wrote stays out of the map, as in the interpreter.
    if (m.entries[i].data != 0 || s.msrs.count(m.entries[i].index)) s.msrs[m.entries[i].index] = m.entries[i].data;
  }
}

void to_kvm_xsave(const CpuState& s, uint8_t* image) {
  const X87State& f = s.fpu;
  put(image, kFcw, f.fcw);
  put(image, kFsw, f.fsw);
  image[kFtw] = isa::x87_abridged_tag(f);
  image[kFtw + 1] = 0;
  put(image, kFop, f.fop);
  put(image, kFip, f.fip);
  put(image, kFdp, f.fdp);
  put(image, kMxcsr, s.sse.mxcsr);
  const unsigned top = isa::x87_top(f);
  for (unsigned i = 0; i < 8; ++i) {
    std::memset(image + kSt + 16 * i, 0, 16);
    std::memcpy(image + kSt + 16 * i, f.regs[(top + i) & 7].data(), 10);
  }
  for (unsigned r = 0; r < 16; ++r) {
    put(image, kXmm + 16 * r, s.sse.xmm[r][0]);
    put(image, kXmm + 16 * r + 8, s.sse.xmm[r][1]);
  }
  image[kXstateBv] |= kX87AndSse;
}

void from_kvm_xsave(const uint8_t* image, CpuState& s) {
  X87State& f = s.fpu;
  f.fcw = get<uint16_t>(image, kFcw);
  f.fsw = get<uint16_t>(image, kFsw);
  f.fop = get<uint16_t>(image, kFop) & 0x7FF;
  f.fip = get<uint64_t>(image, kFip);
  f.fdp = get<uint64_t>(image, kFdp);
  s.sse.mxcsr = get<uint32_t>(image, kMxcsr);
  const unsigned top = isa::x87_top(f);
  for (unsigned i = 0; i < 8; ++i) std::memcpy(f.regs[(top + i) & 7].data(), image + kSt + 16 * i, 10);
  // The full tag word from the abridged one and the registers, as FXRSTOR
  // leaves it.
  f.ftw = isa::x87_full_tag_from_abridged(f, image[kFtw]);
  for (unsigned r = 0; r < 16; ++r) {
    s.sse.xmm[r][0] = get<uint64_t>(image, kXmm + 16 * r);
    s.sse.xmm[r][1] = get<uint64_t>(image, kXmm + 16 * r + 8);
  }
}

}  // namespace vtlab
