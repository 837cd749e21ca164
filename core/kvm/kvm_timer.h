// A KVM_RUN that cannot last longer than asked: a POSIX timer signals this
// thread (SIGEV_THREAD_ID, SIGRTMIN) when the time is up; its handler sets
// kvm_run::immediate_exit, so a KVM_RUN about to start returns at once, and
// the signal interrupts one in progress (-EINTR, KVM_EXIT_INTR).  This is
// the engine's and the probes' only way out of a guest that never exits.
#pragma once

#include <linux/kvm.h>
#include <time.h>

#include <cstdint>

namespace vtlab {

class KvmRunTimer {
 public:
  KvmRunTimer();  // binds to the calling thread
  ~KvmRunTimer();
  KvmRunTimer(const KvmRunTimer&) = delete;
  KvmRunTimer& operator=(const KvmRunTimer&) = delete;
  bool ok() const { return ok_; }
  // KVM_RUN for at most `ns` (at least 1 us); the ioctl's result, errno
  // kept.  immediate_exit is cleared again afterwards.
  int run(int vcpu_fd, kvm_run* run, uint64_t ns);

 private:
  void arm(uint64_t ns);
  timer_t id_{};
  bool ok_ = false;
};

// CLOCK_MONOTONIC in nanoseconds.
uint64_t host_ns();

}  // namespace vtlab
