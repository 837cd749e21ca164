// What the differential tests against /dev/kvm (kvm_diff, kvm_diff64)
// share: their command line (`PROGRAM [CASES [SEED]]`) and the table they
// print, one row per instruction form: cases compared, unexplained
// mismatches (with the first one's operands and bytes), mismatches
// explained by a documented undefined-flag choice (docs/UNDEFINED_FLAGS.md),
// and cases the reference refused.  scripts/fuzz reads the summary line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace vtlab::kvmtest {

struct DiffArgs {
  unsigned cases;
  unsigned seed;
};

inline DiffArgs parse_diff_args(int argc, char** argv, unsigned default_cases = 20000) {
  return {argc > 1 ? unsigned(std::strtoul(argv[1], nullptr, 0)) : default_cases,
          argc > 2 ? unsigned(std::strtoul(argv[2], nullptr, 0)) : 1u};
}

// Exit status when the host cannot run the reference guest (ctest's skip).
inline constexpr int kSkipped = 77;

inline int skip(const char* program, const std::string& why) {
  std::printf("%s: skipped: %s\n", program, why.c_str());
  return kSkipped;
}

// Bytes as two hex digits each, for a reproducer in the table.
inline std::string hex_bytes(const std::vector<uint8_t>& bytes) {
  std::string out;
  char buf[4];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, " %02x", b);
    out += buf;
  }
  return out;
}

class DiffTable {
 public:
  void compared(const std::string& form) { ++rows_[form].cases; }
  void refused(const std::string& form) { ++rows_[form].refused; }
  // `example` is kept for the form's first unexplained mismatch only.
  void mismatch(const std::string& form, const std::string& example) {
    Row& r = rows_[form];
    ++r.mismatches;
    if (r.example.empty()) r.example = example;
  }
  void explained(const std::string& form, const std::string& reason) {
    Row& r = rows_[form];
    ++r.explained;
    r.reason = reason;
  }
  // Counts each case once, however many forms its sequence has.
  void case_done(bool unexplained_mismatch, bool explained_mismatch) {
    mismatches_ += unexplained_mismatch;
    explained_ += explained_mismatch;
  }

  // The table, then the summary line; returns the exit status (0: no
  // unexplained mismatch, 1: some).
  int print(const char* program, unsigned cases, unsigned seed) const {
    std::printf("%-20s %8s %10s %10s %8s  first mismatch / explanation\n", "instruction", "cases", "mismatches",
                "explained", "refused");
    unsigned refused = 0;
    for (const auto& [name, r] : rows_) {
      std::printf("%-20s %8u %10u %10u %8u  %s\n", name.c_str(), r.cases, r.mismatches, r.explained, r.refused,
                  r.example.empty() ? r.reason.c_str() : r.example.c_str());
      refused += r.refused;
    }
    if (refused) std::printf("%s: %u cases refused by the reference\n", program, refused);
    std::printf("%s: %u cases, %zu forms, %u unexplained mismatches, %u explained (seed %u)\n", program, cases,
                rows_.size(), mismatches_, explained_, seed);
    return mismatches_ ? 1 : 0;
  }

 private:
  struct Row {
    unsigned cases = 0, mismatches = 0, explained = 0, refused = 0;
    std::string example, reason;
  };
  std::map<std::string, Row> rows_;
  unsigned mismatches_ = 0, explained_ = 0;
};

}  // namespace vtlab::kvmtest
