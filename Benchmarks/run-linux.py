#!/usr/bin/env python3
"""Times the Linux guest under softvmm and under QEMU's TCG in one run, on the same vmlinux
and the same initramfs (scripts/make-linux-bench.sh: Fixtures/linux/bench-init):

    Benchmarks/run-linux.py [-r ROUNDS] [--smp N] [WORKLOAD ...]    (syscalls processes sha compress;
                                                                       boot: the boot alone)

Each run boots the stock command line (console=ttyS0, plus BENCH=... naming the workloads
for the guest's init) and the host timestamps the serial lines as they arrive: `boot` is the
time from launch to the init's SOFTVMM-READY line, each workload the time between its
BENCH-START and BENCH-END lines. Guest clocks are not used (under softvmm guest time is the
instruction count). Each figure is the best of ROUNDS runs (default 1); softvmm and QEMU
alternate. Each round's two runs also give a ratio per figure, and the median of those is
printed beside the ratio of the best times: on a host whose speed drifts, a pair run back to
back compares like with like. The workloads' result lines must be the same under both, or the
run fails.
softvmm is .build/release/softvmm unless SOFTVMM names another binary.
With --smp N both get N CPUs (softvmm --smp N, QEMU -smp N), and softvmm also runs with one
vCPU: the last column is softvmm's time with N vCPUs over its time with one (paired).
"""
import os, re, subprocess, sys, time

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.chdir(root)
args = sys.argv[1:]
rounds = 1
if args[:1] == ["-r"]:
    rounds, args = int(args[1]), args[2:]
smp = 1
if args[:1] == ["--smp"]:
    smp, args = int(args[1]), args[2:]
workloads = [] if args == ["boot"] else args or ["syscalls", "processes", "sha", "compress"]
guest = ".cache/linux-guest"
softvmm = os.environ.get("SOFTVMM", ".build/release/softvmm")
if not os.access(softvmm, os.X_OK):
    subprocess.run(["swift", "build", "-c", "release", "--product", "softvmm"], check=True)
subprocess.run(["sh", "scripts/make-linux-bench.sh"], check=True, stdout=sys.stderr)
vmlinux = f"{guest}/vmlinux"
if not os.path.exists(vmlinux) or os.path.getmtime(vmlinux) < os.path.getmtime(f"{guest}/vmlinuz"):
    subprocess.run([softvmm, "extract-vmlinux", f"{guest}/vmlinuz", "-o", vmlinux], check=True)
append = "console=ttyS0 BENCH=" + (",".join(workloads) or "none")
initrd = f"{guest}/bench.gz"
commands = {
    "softvmm": [softvmm, "run", vmlinux, "--initrd", initrd, "--append", append, "-m", "256M",
                "--max-instructions", "1000000000000"],
    "qemu-tcg": ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "256M", "-kernel", vmlinux,
                 "-initrd", initrd, "-append", append, "-nographic", "-no-reboot",
                 "-device", "isa-debug-exit,iobase=0xf4,iosize=4"],
}
if smp > 1:
    commands["softvmm-1"] = list(commands["softvmm"])
    commands["softvmm"] += ["--smp", str(smp)]
    commands["qemu-tcg"] += ["-smp", str(smp)]


def run(name):
    """One boot: {figure: seconds}, {workload: result lines}."""
    start = time.monotonic()
    p = subprocess.Popen(commands[name], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times, results, current, began = {}, {}, None, 0.0
    for raw in p.stdout:
        now = time.monotonic() - start
        line = raw.decode(errors="replace").strip()
        if line.endswith("SOFTVMM-READY") and "boot" not in times:
            times["boot"] = now
        elif line.startswith("BENCH-START "):
            current, began = line.split()[1], now
            results[current] = []
        elif line == "BENCH-END" and current:
            times[current] = now - began
            current = None
        elif current and not re.match(r"\[\s*\d+\.\d+\] ", line):
            # (The kernel's own messages, such as QEMU's TSC calibration, are not results.)
            results[current].append(line)
    p.wait()
    times["total"] = time.monotonic() - start
    missing = [w for w in ["boot"] + workloads if w not in times]
    if missing:
        sys.exit(f"{name}: no figure for {', '.join(missing)} (exit status {p.returncode})")
    return times, results


best, outputs, paired, against_one = {}, {}, {}, {}
for r in range(rounds):
    round_times = {}
    for name in commands:
        if name == "qemu-tcg" and subprocess.run(["sh", "-c", "command -v qemu-system-x86_64"], stdout=subprocess.DEVNULL).returncode:
            continue
        times, results = run(name)
        round_times[name] = times
        outputs.setdefault(name, results)
        for k, v in times.items():
            best.setdefault(name, {})
            best[name][k] = min(v, best[name].get(k, v))
    if "qemu-tcg" in round_times:
        for k, v in round_times["softvmm"].items():
            paired.setdefault(k, []).append(v / round_times["qemu-tcg"][k])
    if "softvmm-1" in round_times:
        for k, v in round_times["softvmm"].items():
            against_one.setdefault(k, []).append(v / round_times["softvmm-1"][k])
if "qemu-tcg" in outputs and outputs["qemu-tcg"] != outputs["softvmm"]:
    sys.exit(f"the workloads' results differ:\n  softvmm  {outputs['softvmm']}\n  qemu-tcg {outputs['qemu-tcg']}")
def median(v):
    v = sorted(v)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2


one = f" {'smp' + str(smp) + '/smp1':>10}" if smp > 1 else ""
print(f"{'figure':<12} {'softvmm s':>10} {'qemu-tcg s':>11} {'softvmm/qemu':>13} {'paired':>7}{one}  result")
for k in ["boot"] + workloads + ["total"]:
    s = best["softvmm"][k]
    q = best.get("qemu-tcg", {}).get(k)
    ratio = f"{s / q:.1f}x" if q else "n/a"
    pair = f"{median(paired[k]):.1f}x" if k in paired else "n/a"
    versus = f" {median(against_one[k]):>9.2f}x" if k in against_one else ""
    print(f"{k:<12} {s:>10.2f} {q if q is not None else float('nan'):>11.2f} {ratio:>13} {pair:>7}{versus}  {' | '.join(outputs['softvmm'].get(k, []))}")
if rounds > 1 and paired:
    print("paired ratios by round: " + "; ".join(f"{k} " + " ".join(f"{x:.1f}" for x in paired[k]) for k in ["boot"] + workloads))
