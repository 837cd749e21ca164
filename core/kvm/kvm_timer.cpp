#include "core/kvm/kvm_timer.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vtlab {

namespace {
thread_local kvm_run* t_entering = nullptr;
void kick(int) {
  if (kvm_run* r = t_entering) r->immediate_exit = 1;
}
}  // namespace

uint64_t host_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

KvmRunTimer::KvmRunTimer() {
  struct sigaction sa {};
  sa.sa_handler = kick;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // KVM_RUN still returns -EINTR; other calls restart
  sigaction(SIGRTMIN, &sa, nullptr);
  sigevent ev{};
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = SIGRTMIN;
  ev._sigev_un._tid = gettid();
  ok_ = timer_create(CLOCK_MONOTONIC, &ev, &id_) == 0;
}

KvmRunTimer::~KvmRunTimer() {
  if (ok_) timer_delete(id_);
}

void KvmRunTimer::arm(uint64_t ns) {
  itimerspec its{};
  its.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000u);
  its.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000u);
  if (ok_) timer_settime(id_, 0, &its, nullptr);
}

int KvmRunTimer::run(int vcpu_fd, kvm_run* run, uint64_t ns) {
  arm(std::max<uint64_t>(ns, 1000));
  t_entering = run;
  const int r = ioctl(vcpu_fd, KVM_RUN, 0);
  const int err = errno;
  t_entering = nullptr;
  arm(0);
  run->immediate_exit = 0;
  errno = err;
  return r;
}

}  // namespace vtlab
