// Finding the CMP/TEST + Jcc pairs of a block (core/isa/fusion.h); the
// fused handlers themselves live with CMP and TEST in alu.cpp.
#include "core/isa/fusion.h"

#include <Zydis/Zydis.h>

#include "core/isa/registry.h"

namespace vtlab::isa {

namespace {

bool is_compare(const DecodedInsn& i) {
  return (i.mnemonic == ZYDIS_MNEMONIC_CMP || i.mnemonic == ZYDIS_MNEMONIC_TEST) && !i.original && i.nops == 2 &&
         !(i.op[0].kind == OpKind::Mem && i.mem.base == kRegRip) &&
         !(i.op[1].kind == OpKind::Mem && i.mem.base == kRegRip);  // RIP-relative: the EA needs the compare's own end
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
    if (k + 1 < insns.size() && is_compare(d) && is_jcc_rel(insns[k + 1]) && ip + d.len + insns[k + 1].len <= ip_mask) {
      const DecodedInsn& j = insns[k + 1];
      if (Handler h = bind_compare_jcc(d, j.cond)) {
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
