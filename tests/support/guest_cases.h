// Test support: the kernels in tests/guests/ and what QEMU recorded for
// them (<case>.expected, .status, .args, optional .debugcon and .pending).
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace vtlab::test {

struct GuestCase {
  std::string name;  // "<kernel>" or "<kernel>.<variant>"
};
void PrintTo(const GuestCase& c, std::ostream* os);

// Every recorded case, sorted by name.
std::vector<GuestCase> discover_guest_cases();
// The kernel file a case boots, the recorded files' base path, and its
// multiboot command line (the --append "text" of its .args).
std::string guest_kernel(const GuestCase& c);
std::string guest_source(const GuestCase& c);
std::string guest_cmdline(const GuestCase& c);
int guest_status(const GuestCase& c);
// <case>.pending or <kernel>.pending: vtlab lacks a feature the kernel needs.
bool guest_pending(const GuestCase& c);

}  // namespace vtlab::test
