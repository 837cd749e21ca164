// Exit statistics as researchers tabulate them (docs/EXITS.md, "Statistics"):
// per reason, per sub-key (port, MSR, vector, page, instruction) and per
// guest RIP, the count, share of all exits, total/min/mean/max modelled
// cost and a log2 histogram of the virtual time between consecutive exits
// of the group, from ExitLog::figures().  `--stats` carries them as
// "exit_stats"; `--stats-format csv` writes them as one row per group.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

#include "core/exits.h"

namespace vtlab::cli {

// "sti" for instruction keys, "console-write" for hypercalls, else hex
// (defined in session.cpp, where --stats' "keys" use it too).
std::string exit_key_name(ExitReason reason, uint32_t key);

nlohmann::json exit_stats_json(const ExitLog& log);
// Header, then a row for all exits, then per reason that occurred: the
// reason's row (key "*"), its sub-keys, its RIPs ("rip:0x...").
std::string exit_stats_csv(const ExitLog& log, std::string_view mode);

}  // namespace vtlab::cli
