// Finding the pairs of a block that fuse with a Jcc (core/isa/fusion.h);
// the fused handlers, and which forms have one, live in alu.cpp.
#include "core/isa/fusion.h"

#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

// Not a record a monitor replaced, and no RIP-relative operand (its
// address needs the first instruction's own end, not the pair's).
bool may_lead(const DecodedInsn& i) {
  return !i.original && i.nops >= 1 && !(i.op[0].kind == OpKind::Mem && i.mem.base == kRegRip) &&
         !(i.nops >= 2 && i.op[1].kind == OpKind::Mem && i.mem.base == kRegRip) && !(i.prefixes & prefix::kLock);
}

bool is_jcc_rel(const DecodedInsn& j) {
  return (j.info & info::kConditional) && !j.original && j.nops >= 1 && j.op[0].kind == OpKind::Rel &&
         static_cast<int64_t>(j.imm) == static_cast<int32_t>(j.imm);
}

}  // namespace

void fuse_pairs(std::vector<DecodedInsn>& insns, uint64_t ip, uint64_t ip_mask) {
  size_t out = 0;
  for (size_t k = 0; k < insns.size(); ++k) {
    DecodedInsn d = insns[k];
    if (k + 1 < insns.size() && may_lead(d) && is_jcc_rel(insns[k + 1]) && ip + d.len + insns[k + 1].len <= ip_mask) {
      const DecodedInsn& j = insns[k + 1];
      if (Handler h = bind_fused_jcc(d, j.cond)) {
        d.exec = h;
        d.jcc_len = j.len;
        d.jcc_opsize = j.opsize;
        d.jcc_disp = static_cast<int32_t>(j.imm);
        d.cond = j.cond;
        d.info = j.info;
        d.len = static_cast<uint8_t>(d.len + j.len);
        ++k;
      }
    }
    ip += d.len;
    insns[out++] = d;
  }
  insns.resize(out);
}

}  // namespace vtlab::isa
