#include "support/guest_cases.h"

#include <dirent.h>

#include <algorithm>

#include "support/boot.h"

namespace vtlab::test {

void PrintTo(const GuestCase& c, std::ostream* os) { *os << c.name; }

std::vector<GuestCase> discover_guest_cases() {
  std::vector<GuestCase> cases;
  if (DIR* d = opendir(VTLAB_GUESTS_SRC_DIR)) {
    while (dirent* e = readdir(d)) {
      std::string f = e->d_name;
      const std::string ext = ".expected";
      if (f.size() > ext.size() && f.compare(f.size() - ext.size(), ext.size(), ext) == 0)
        cases.push_back({f.substr(0, f.size() - ext.size())});
    }
    closedir(d);
  }
  std::sort(cases.begin(), cases.end(), [](const GuestCase& a, const GuestCase& b) { return a.name < b.name; });
  return cases;
}

std::string guest_kernel(const GuestCase& c) {
  const std::string kname = c.name.substr(0, c.name.find('.'));
  const std::string elf = std::string(VTLAB_GUESTS_DIR) + "/" + kname + ".elf";
  return file_exists(elf) ? elf : std::string(VTLAB_GUESTS_DIR) + "/" + kname + ".bin";
}

std::string guest_source(const GuestCase& c) { return std::string(VTLAB_GUESTS_SRC_DIR) + "/" + c.name; }

// The .args file holds extra arguments as given to vtlab/QEMU; today only
// --append "text" is used.
std::string guest_cmdline(const GuestCase& c) {
  const std::string args = read_text_file(guest_source(c) + ".args");
  const std::string key = "--append";
  size_t k = args.find(key);
  if (k == std::string::npos) return "";
  size_t q1 = args.find('"', k);
  size_t q2 = q1 == std::string::npos ? q1 : args.find('"', q1 + 1);
  if (q2 == std::string::npos) return "";
  return args.substr(q1 + 1, q2 - q1 - 1);
}

int guest_status(const GuestCase& c) { return std::stoi(read_text_file(guest_source(c) + ".status")); }

bool guest_pending(const GuestCase& c) {
  const std::string kernel_src = std::string(VTLAB_GUESTS_SRC_DIR) + "/" + c.name.substr(0, c.name.find('.'));
  return file_exists(guest_source(c) + ".pending") || file_exists(kernel_src + ".pending");
}

}  // namespace vtlab::test
