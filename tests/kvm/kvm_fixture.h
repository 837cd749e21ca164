// Test support for the KVM engine (core/kvm/): what this host's /dev/kvm
// can do, probed once per test binary, and a machine in `hw` mode with the
// kvm backend.  Tests skip with the probe's reason where KVM cannot serve.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/kvm/kvm_caps.h"
#include "core/machine.h"
#include "privilege/monitor.h"

namespace vtlab::test {

inline const KvmCaps& host_kvm() {
  static const KvmCaps caps = probe_kvm(1000);
  return caps;
}

#define SKIP_WITHOUT_KVM()                                                                   \
  do {                                                                                       \
    if (!::vtlab::test::host_kvm().usable)                                                   \
      GTEST_SKIP() << "this host's /dev/kvm cannot serve: " << ::vtlab::test::host_kvm().why_not; \
  } while (0)

inline MachineConfig kvm_config() {
  MachineConfig cfg;
  cfg.mode = "hw";
  cfg.hw_backend = "kvm";
  return cfg;
}

// The exit log's count for one (reason, key).
inline uint64_t exit_key_count(const Machine& m, ExitReason r, uint32_t key) {
  const auto& keys = m.exits().count(r).by_key;
  const auto it = keys.find(key);
  return it == keys.end() ? 0 : it->second;
}

inline uint64_t counter(const Machine& m, const std::string& name) {
  for (const auto& [n, v] : m.monitor().counters())
    if (n == name) return v;
  return 0;
}

}  // namespace vtlab::test
