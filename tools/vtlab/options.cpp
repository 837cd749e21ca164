#include "tools/vtlab/options.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <ctime>

namespace vtlab::cli {

// "2025-01-01", "2025-01-01T12:30:00" (UTC) or "@1735689600" (Unix seconds),
// from 1970 to 2099 (what the RTC's two-digit year and century byte hold).
int64_t parse_rtc_epoch(const std::string& text) {
  const auto bad = [&] {
    return CLI::ValidationError("--rtc-epoch",
                                "not a date: " + text + " (want YYYY-MM-DD[THH:MM:SS] in UTC, or @SECONDS)");
  };
  int64_t seconds = 0;
  if (!text.empty() && text[0] == '@') {
    size_t used = 0;
    try {
      seconds = std::stoll(text.substr(1), &used);
    } catch (const std::exception&) {
      throw bad();
    }
    if (used != text.size() - 1) throw bad();
  } else {
    std::tm tm{};
    char rest = 0;
    const int n = std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                              &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &rest);
    if (n != 3 && n != 6) throw bad();
    if (n == 3 && text.size() != 10) throw bad();
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 59)
      throw bad();
    const int day = tm.tm_mday, month = tm.tm_mon;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    seconds = timegm(&tm);
    if (tm.tm_mday != day || tm.tm_mon != month - 1) throw bad();  // 2025-02-30 normalised away
  }
  constexpr int64_t kYear2100 = 4'102'444'800;
  if (seconds < 0 || seconds >= kYear2100)
    throw CLI::ValidationError("--rtc-epoch", text + " is outside 1970-01-01 .. 2099-12-31");
  return seconds;
}

// "128M", "1G", "65536K"; a bare number means MiB, as QEMU's -m does.
uint64_t parse_memory_size(const std::string& text) {
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    throw CLI::ValidationError("-m", "not a size: " + text);
  }
  std::string suffix = text.substr(used);
  uint64_t unit = 1ull << 20;
  if (suffix == "K" || suffix == "k") unit = 1ull << 10;
  else if (suffix == "G" || suffix == "g") unit = 1ull << 30;
  else if (suffix != "" && suffix != "M" && suffix != "m") throw CLI::ValidationError("-m", "bad size suffix: " + text);
  return n * unit;
}

DriveSpec parse_drive(const std::string& text) {
  const auto bad = [&] { return CLI::ValidationError("--drive", "want file=IMG[,readonly=on|off], got " + text); };
  if (text.rfind("file=", 0) != 0) throw bad();
  DriveSpec d;
  const size_t comma = text.find(',');
  d.file = text.substr(5, comma == std::string::npos ? std::string::npos : comma - 5);
  if (d.file.empty()) throw bad();
  if (comma != std::string::npos) {
    const std::string rest = text.substr(comma + 1);
    if (rest == "readonly=on")
      d.read_only = true;
    else if (rest != "readonly=off")
      throw bad();
  }
  return d;
}

}  // namespace vtlab::cli
