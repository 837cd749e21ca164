#include "privilege/stack_access.h"

#include "privilege/descriptors.h"

namespace vtlab {

uint64_t StackWriter::linear(const Slot& sl, unsigned byte) const {
  if (stack64()) return sl.offset + byte;
  return (ss_.base + sl.offset + byte) & 0xFFFFFFFF;
}

Status StackWriter::check_limits(Cpu& cpu, uint8_t vector, uint32_t error) const {
  if (stack64()) {
    for (const Slot& sl : slots())
      if (!is_canonical(linear(sl, 0)) || !is_canonical(linear(sl, sl.size - 1))) return cpu.raise(vector, error);
    return Status::Ok;
  }
  // An unusable SS (left so by a task switch that faulted in the new task's
  // segment loads) holds no stack at all.
  if (!ss_.present()) return cpu.raise(vector, error);
  for (const Slot& sl : slots())
    if (!within_limit(cpu.s, ss_, sl.offset, sl.size)) return cpu.raise(vector, error);
  return Status::Ok;
}

Status StackWriter::write(Cpu& cpu) const {
  // Translate first: a page fault on the last slot must not leave the
  // first ones written.
  for (const Slot& sl : slots()) {
    uint64_t phys;
    TRY(cpu.translate(linear(sl, 0), Access::Write, user_, phys));
    TRY(cpu.translate(linear(sl, sl.size - 1), Access::Write, user_, phys));
  }
  for (const Slot& sl : slots()) TRY(cpu.write_linear(linear(sl, 0), sl.size, sl.value, !user_));
  return Status::Ok;
}

}  // namespace vtlab
