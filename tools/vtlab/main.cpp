// vtlab command-line interface: `vtlab run` boots one guest in one mode,
// `vtlab compare` runs one guest in several modes side by side.  Exit
// statuses are in tools/vtlab/options.h, --help and the README.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>

#include "core/kvm/kvm_caps.h"
#include "core/loader/load_error.h"
#include "core/machine.h"
#include "debugger/fault_explain.h"
#include "tools/vtlab/compare.h"
#include "tools/vtlab/debug_cli.h"
#include "tools/vtlab/gdb_cli.h"
#include "tools/vtlab/gui_cli.h"
#include "tools/vtlab/options.h"
#include "tools/vtlab/session.h"
#include "tools/vtlab/stats.h"

namespace {

using namespace vtlab::cli;

// gdb_port < 0: no gdb.
int run_command(const RunOptions& o, int gdb_port, const std::string& gdb_arch) {
  SerialSink serial(o.serial);
  Session session(o, [&serial](uint8_t b) { serial.put(b); });
  if (o.boot_log) serial.stamp_lines([&session] { return session.machine().virtual_time(); });
  install_signal_handlers();
  const std::optional<vtlab::RunResult> under_gdb =
      gdb_port >= 0 ? serve_gdb(session, static_cast<unsigned>(gdb_port), *vtlab::gdb::parse_arch(gdb_arch),
                                  o.checkpoint_interval)
                    : std::nullopt;
  const vtlab::RunResult r = under_gdb ? *under_gdb : session.run();
  const int status = exit_status_for(r);
  const vtlab::Cpu& cpu = session.machine().cpu();
  const bool triple_fault = r.reason == vtlab::StopReason::Shutdown && !cpu.shutdown_chain.empty();
  if (r.reason != vtlab::StopReason::GuestExit) {
    std::fflush(stdout);
    std::cerr << stop_line(session.machine(), r);
    // A triple fault says why, event by event (debugger/fault_explain.h).
    if (r.reason == vtlab::StopReason::Shutdown)
      std::cerr << vtlab::explain_fault_chain(session.machine(), cpu.shutdown_chain, true);
  }
  // A double fault the guest survived, once the run is over (a warning at
  // the time would land in the middle of the guest's output): the last one.
  if (!triple_fault && !cpu.last_double_fault.empty()) {
    std::fflush(stdout);
    std::cerr << "vtlab: the guest took a double fault and its #DF handler ran; the last one:\n"
              << vtlab::explain_fault_chain(session.machine(), cpu.last_double_fault, false);
  }
  std::fflush(stdout);
  std::cerr << holes_summary(session.machine().monitor());
  if (!o.stats.empty()) {
    const std::string text = o.stats_format == "csv" ? exit_stats_csv(session.machine().exits(), o.mode)
                                                     : session.stats(r, status).dump(2) + "\n";
    if (o.stats == "-") {
      std::fflush(stdout);
      std::cout << text << std::flush;
    } else {
      std::ofstream f(o.stats);
      if (!f) throw vtlab::LoadError(o.stats + ": cannot open for writing");
      f << text;
    }
  }
  // --on-triple-fault debug: the debugger on a replay, at the chain's first
  // event; its exit status is the debugger's.
  if (triple_fault && o.on_triple_fault == "debug" && gdb_port < 0) {
    std::cout << std::flush;
    return debug_first_fault(o, vtlab::run_position(session.machine()).virtual_time);
  }
  return status;
}

// The options a guest run takes, shared by run and compare.
void add_machine_options(CLI::App* app, RunOptions& o) {
  app->add_option("KERNEL", o.kernel,
                  "Multiboot v1 kernel (ELF or a.out kludge), a Linux bzImage (recognised by its header), or a flat "
                  "binary with --flat");
  app->add_option("--kernel-linux", o.kernel_linux,
                  "Boot this Linux bzImage through the Linux/x86 boot protocol (the same as giving it as KERNEL)");
  app->add_option("--initrd", o.initrd, "Linux: the initial ramdisk (e.g. a gzip'd cpio), loaded at the top of RAM");
  app->add_option("--linux-entry", o.linux_entry,
                  "Linux: enter the kernel through its 32-bit or 64-bit entry (auto: 64 for an x86_64 kernel)")
      ->check(CLI::IsMember({"auto", "32", "64"}))
      ->capture_default_str();
  app->add_option("--bios", o.bios,
                  "Power on at the reset vector with this firmware image (64, 128 or 256 KiB) instead of a KERNEL");
  app->add_flag("--reboot", o.reboot,
                "With --bios: a reset request or triple fault restarts at the reset vector (the same as "
                "--on-triple-fault reset; default: stop, as QEMU's -no-reboot)");
  app->add_option("-m,--memory", o.memory,
                  "Guest RAM: a size with K, M or G suffix (bare number: MiB); default 128M, 512M for a Linux kernel");
  app->add_option("--max-insns", o.max_insns,
                  "Stop after this much virtual time (1 unit = 1 guest ns): instructions retired, plus "
                  "exceptions and interrupts delivered, plus time slept in HLT, plus modelled exit costs "
                  "(0: no limit)")
      ->capture_default_str();
  app->add_option("--append", o.append, "Kernel command line (multiboot info, or the Linux boot protocol's)");
  app->add_option("--rtc-epoch", o.rtc_epoch,
                  "What the guest's RTC reads at power-on, in UTC: YYYY-MM-DD[THH:MM:SS] or @UNIX-SECONDS "
                  "(default 2025-01-01; the clock then runs on virtual time, so runs are repeatable)");
  app->add_option("--cost-model", o.cost_model,
                  "JSON object of exit reason -> modelled cycles, overriding the defaults (docs/EXITS.md)");
  app->add_option("--hw-backend", o.hw_backend,
                  "hw: what runs the guest: sim (the interpreter's VT-x model, steppable) or kvm (the host's "
                  "/dev/kvm; `vtlab info` says what it can run, docs/KVM.md)")
      ->check(CLI::IsMember({"sim", "kvm"}))
      ->capture_default_str();
  app->add_option("--holes", o.holes,
                  "trap (in compare: the trap column): what the sensitive-but-unprivileged instructions do at "
                  "ring 1: real (as on real x86: the guest gets the ring-1 answer, the detector reports each "
                  "site) or trap (as if x86 were "
                  "classically virtualizable: each traps and is emulated, a privileged-insn exit; "
                  "docs/TRAP_AND_EMULATE.md)")
      ->check(CLI::IsMember({"real", "trap"}))
      ->capture_default_str();
  app->add_option("--flat", o.flat,
                  "Load KERNEL as a flat binary at ADDR and start there in 32-bit flat protected mode");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vtlab: an educational x86 emulator and virtualizer"};
  app.set_version_flag("--version", std::string("vtlab ") + VTLAB_VERSION);
  app.require_subcommand(1);
  app.footer(
      "Run `vtlab run --help` or `vtlab compare --help` for their options.\n"
      "Exit status of run: the guest's isa-debug-exit status ((v<<1)|1, always odd) when it exits\n"
      "that way; otherwise 0 guest halted, 2 bad command line or image, 4 --max-insns reached,\n"
      "6 shutdown (triple fault, or the guest reset the machine), 8 unsupported instruction or\n"
      "feature, 10 interrupted, 12 internal error.\n"
      "Exit status of compare: 0 every transcript matched native's, 1 one did not, 2 bad input.");

  RunOptions o;
  CLI::App* run = app.add_subcommand("run", "Boot a kernel and run it until it exits, halts or stops");
  add_machine_options(run, o);
  const std::vector<std::string>& modes = vtlab::Machine::modes();
  run->add_option("--mode", o.mode,
                  "How the guest runs: " + fmt::format("{}", fmt::join(modes, ", ")) +
                      " (native: the interpreter runs the guest at its own rings, no monitor; trap: trap-and-emulate "
                      "with the guest kernel at ring 1 and the virtualization-hole detector; bt: the guest kernel's code "
                      "binary-translated, user code run direct; hw: the guest at its own rings in VMX non-root mode, exits "
                      "decided by VMCS controls; pv: a paravirtualized kernel at ring 1 that makes hypercalls, "
                      "docs/HYPERCALLS.md)")
      ->check(CLI::IsMember(modes))
      ->capture_default_str();
  run->add_option("--on-triple-fault", o.on_triple_fault,
                  "What a triple fault does: stop (print the fault chain, exit status 6), reset (restart at the "
                  "reset vector, as does a reset request; needs --bios; --reboot is the same), debug (print the "
                  "chain, then open the command-line debugger on a replay stopped before the chain's first event, "
                  "commands from stdin; rs steps back from there)")
      ->check(CLI::IsMember({"stop", "reset", "debug"}))
      ->capture_default_str();
  run->add_option("--serial", o.serial, "Where COM1 output goes: stdio, none or file:PATH")->capture_default_str();
  run->add_option("--stats", o.stats, "Write run statistics as JSON to FILE, or - for stdout");
  run->add_option("--stats-format", o.stats_format,
                  "--stats as json (everything) or csv (exit statistics: one row per reason, sub-key and RIP)")
      ->check(CLI::IsMember({"json", "csv"}))
      ->capture_default_str();
  run->add_option("--trace", o.trace, "Write every exit as one JSON line to FILE");
  run->add_option("--trace-limit", o.trace_limit, "At most this many lines in the --trace file")
      ->capture_default_str();
  run->add_option("--hw-paging", o.hw_paging,
                  "hw: memory virtualization, shadow (CR3 and #PF exits; 32-bit paging) or nested (EPT, 2-D walks)")
      ->check(CLI::IsMember({"shadow", "nested"}))
      ->capture_default_str();
  run->add_option("--vmcs", o.vmcs, "hw sim: VMCS controls from FILE (name = value lines or JSON; docs/HARDWARE_ASSISTED.md)")
      ->check(CLI::ExistingFile);
  run->add_option("--vmcs-set", o.vmcs_set, "hw sim: one VMCS control, name=value (after --vmcs; repeatable)")
      ->allow_extra_args(false);
  run->add_flag("--strict-holes", o.strict_holes,
               "trap: stop at the first virtualization hole (exit status 8) instead of listing them at the end");
  run->add_option("--bt-log", o.bt_log,
                  "bt: write every kernel block translated, guest code beside its translation, to FILE");
  run->add_option("--bt-tc-blocks", o.bt_tc_blocks,
                  "bt: kernel blocks translated before the translation cache is flushed")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
      ->capture_default_str();
  int gdb_port = -1;
  run->add_option("--gdb", gdb_port,
                  "Wait for gdb on 127.0.0.1:PORT (0: any free port, named on stderr) before the first "
                  "instruction, and let it drive the run (target remote :PORT)")
      ->check(CLI::Range(0, 65535));
  std::string gdb_arch = "auto";
  run->add_option("--gdb-arch", gdb_arch,
                  "The register file gdb sees: auto (the CPU mode's: i8086 in real mode, i386, x86-64 in long "
                  "mode; gdb reads it again on `unset tdesc filename`), i386 (eax..edi, eip) or x86-64 "
                  "(rax..r15, rip, fs_base, gs_base) throughout")
      ->check(CLI::IsMember({"auto", "i386", "x86-64"}))
      ->capture_default_str();
  run->add_option("--checkpoint-interval", o.checkpoint_interval,
                  "gdb reverse execution: a checkpoint every this many units of virtual time (0: no reverse "
                  "execution; only native mode without virtio has checkpoints)")
      ->capture_default_str();
  run->add_option("--drive", o.drive,
                  "A virtio-blk disk on this image file: file=IMG[,readonly=on] (virtio-mmio at 0xFEB00000, "
                  "IRQ 5; guest writes reach the file at once; docs/VIRTIO.md)");
  run->add_flag("--virtio-console", o.virtio_console,
                "A virtio-console (virtio-mmio at 0xFEB00200, IRQ 6) whose output goes where COM1's does");
  run->add_flag("--boot-log", o.boot_log,
                "Start each line the guest prints on COM1 with the virtual time (guest seconds) and host time "
                "(seconds since the run began) of its first byte: [v 1.234567s | h 0.52s] Linux version ...");
  run->add_flag("--post", o.post, "Print POST codes (ports 0x80/0x190) and debug-console lines (0xE9) on stderr as they come");

  CompareOptions c;
  CLI::App* compare = app.add_subcommand("compare", "Run a kernel in several modes and compare exits side by side");
  add_machine_options(compare, c.run);
  // hw-sim and hw-kvm name hw with one backend each, so both can stand in one table.
  std::vector<std::string> compare_modes = modes;
  compare_modes.insert(compare_modes.end(), {"hw-sim", "hw-kvm"});
  compare->add_option("--modes", c.modes,
                      "Comma-separated modes to run (native always runs first, as reference); hw-sim and hw-kvm "
                      "are hw with that backend, so both can be compared in one run")
      ->delimiter(',')
      ->check(CLI::IsMember(compare_modes));
  compare->add_option("--suite", c.suite,
                      "Run a shipped suite instead of one KERNEL: micro (samples/micro, every workload; KERNEL, if "
                      "given, is the micro guest, else samples/micro.elf beside this binary; default modes: all)")
      ->check(CLI::IsMember({"micro"}));
  compare->add_option("--output", c.output, "Write the report to FILE instead of stdout");
  compare->add_option("--pv-kernel", c.pv_kernel,
                      "The paravirtual build of KERNEL that --modes pv runs (e.g. minios-pv.elf); its transcript "
                      "is shown, not required to match native's")
      ->check(CLI::ExistingFile);
  compare->add_option("--repeat", c.repeat,
                      "Run each mode N times: the modelled figures must agree, the fastest host time is shown")
      ->check(CLI::Range(1u, 1000u))
      ->capture_default_str();
  compare->add_option("--format", c.format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();

  DebugOptions dbg;
  CLI::App* debug = app.add_subcommand("debug", "Open a command-line debugger on a guest (its commands: help)");
  add_machine_options(debug, dbg.run);
  add_debug_options(debug, dbg);

  CLI::App* info = app.add_subcommand("info", "Say what this host's /dev/kvm can run (--hw-backend kvm), and why not");
  GuiCliOptions gui;
  CLI::App* gui_app = app.add_subcommand("gui", "Open the Dear ImGui debugger on a guest (docs/GUI.md)");
  add_machine_options(gui_app, gui.run);
  add_gui_options(gui_app, gui);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "vtlab: " << e.what() << " (see vtlab --help)\n";
    return kBadInput;
  }

  try {
    if (compare->parsed()) return compare_command(c);
    if (debug->parsed()) return debug_command(dbg);
    if (info->parsed()) {
      const vtlab::KvmCaps caps = vtlab::probe_kvm();
      std::cout << vtlab::format_kvm_caps(caps);
      return caps.usable ? 0 : 1;
    }
    if (gui_app->parsed()) return gui_command(gui);
    return run_command(o, gdb_port, gdb_arch);
  } catch (const vtlab::LoadError& e) {
    std::cerr << "vtlab: " << e.what() << "\n";
    return kBadInput;
  } catch (const CLI::ValidationError& e) {
    std::cerr << "vtlab: " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "vtlab: internal error: " << e.what() << "\n";
    return kInternal;
  }
}
