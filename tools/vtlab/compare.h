// `vtlab compare`: one guest in several modes, side by side.
#pragma once

#include <string>
#include <vector>

#include "tools/vtlab/options.h"

namespace vtlab::cli {

struct CompareOptions {
  RunOptions run;  // kernel, memory, append, budget, epoch, cost model
  std::vector<std::string> modes;
  std::string format = "table";
  std::string suite;   // "micro": the shipped workloads instead of one KERNEL
  std::string output;  // the report goes here instead of stdout
  unsigned repeat = 1; // runs per mode: figures checked equal, fastest host time kept
  std::string pv_kernel;  // what `pv` runs instead of KERNEL: its paravirtual build (minios-pv.elf)
};

// The options one mode of a comparison runs with: hw-sim and hw-kvm are
// hw with that backend, and pv runs `pv_kernel` when one is named.
RunOptions compare_run_options(const RunOptions& base, const std::string& mode, const std::string& pv_kernel);

// The workloads of `--suite micro`, in the order they are reported (the
// `w=` names samples/micro understands).
const std::vector<std::string>& micro_workloads();

// Where `--suite micro` looks for its guest when no KERNEL is given:
// samples/micro.elf beside the vtlab binary (the build tree's layout).
std::string default_micro_guest();

// Prints the comparison on stdout or --output (with a suite, one block per
// workload).  Returns 0 when every mode's serial transcript matched
// native's (and every --repeat its first run), 1 when one differed.
int compare_command(const CompareOptions& o);

}  // namespace vtlab::cli
