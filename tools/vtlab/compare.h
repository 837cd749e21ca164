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
};

// Prints the comparison on stdout.  Returns 0 when every mode's serial
// transcript matched native's, 1 when one differed.
int compare_command(const CompareOptions& o);

}  // namespace vtlab::cli
