// The stack as event delivery, far calls, far returns and IRET use it.
//
// These instructions push or pop several values, some on a stack that is
// not loaded yet (the inner-level stack from the TSS).  Nothing may be
// committed before every check has passed, so pushes are gathered first and
// written together, and pops only advance a private pointer; the caller
// commits SS:ESP with the rest of the state (QEMU's "StackAccess" idea).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>

#include "core/cpu.h"

namespace vtlab {

class StackWriter {
 public:
  // Pushes go to `ss` (the current SS, or a new one not loaded yet) below
  // `sp`, wrapping at the stack's address size (2 or 4 bytes).  `user`:
  // paging checks them as CPL 3 accesses.  Address size 8 is a 64-bit-mode
  // stack: SS's base and limit are ignored, and every slot must be
  // canonical instead (SDM vol. 3, 3.4.4, 6.14.3).
  StackWriter(const SegmentCache& ss, uint64_t sp, unsigned addr_size, bool user)
      : ss_(ss), sp_(sp), mask_(all_ones(addr_size)), user_(user) {}

  void push(unsigned size, uint64_t value) {
    sp_ = ((sp_ - size) & mask_) | (sp_ & ~mask_);
    slots_[std::min<size_t>(count_++, kMaxSlots - 1)] = Slot{sp_ & mask_, size, value};
  }

  // "Stack not large enough": every slot against the segment limit (and an
  // unusable SS), failing with vector(error), e.g. #SS(0) or #SS(new SS).
  // A 64-bit stack: every slot canonical.
  Status check_limits(Cpu& cpu, uint8_t vector, uint32_t error) const;
  // After check_limits(): checks that paging allows every write (#PF), and
  // only then writes them all.
  Status write(Cpu& cpu) const;

  // The stack pointer after the pushes; a 16-bit stack keeps the upper half
  // of ESP as it was.
  uint64_t sp() const { return sp_; }

 private:
  struct Slot {
    uint64_t offset;
    unsigned size;
    uint64_t value;
  };
  bool stack64() const { return mask_ == ~uint64_t{0}; }
  uint64_t linear(const Slot& sl, unsigned byte) const;

  std::span<const Slot> slots() const { return {slots_.data(), std::min<size_t>(count_, kMaxSlots)}; }

  // The most any transfer pushes: a call gate's 31 parameters plus SS, ESP,
  // CS and EIP (an interrupt from virtual-8086 mode pushes 10).  A fixed
  // array: event delivery allocates nothing.
  static constexpr size_t kMaxSlots = 35;
  SegmentCache ss_;
  uint64_t sp_;
  uint64_t mask_;
  bool user_;
  std::array<Slot, kMaxSlots> slots_;
  size_t count_ = 0;
};

class StackReader {
 public:
  // Pops from the current SS:ESP, with its checks (#SS(0)) and the current
  // CPL's paging rights.
  explicit StackReader(Cpu& cpu)
      : cpu_(cpu), sp_(cpu.s.gpr[RSP]), mask_(all_ones(cpu.s.stack_addr_size())) {}

  Status pop(unsigned size, uint64_t& v) {
    TRY(cpu_.read_mem(SS, sp_ & mask_, size, v));
    skip(size);
    return Status::Ok;
  }
  void skip(uint64_t bytes) { sp_ = ((sp_ + bytes) & mask_) | (sp_ & ~mask_); }
  // The stack pointer after the pops (upper half kept for 16-bit stacks).
  uint64_t sp() const { return sp_; }

 private:
  Cpu& cpu_;
  uint64_t sp_;
  uint64_t mask_;
};

}  // namespace vtlab
