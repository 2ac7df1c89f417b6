#!/usr/bin/env python3
"""The interactive console's check (issue 8): `softvmm run` on the Linux guest in interactive
mode, driven through a pseudo-terminal as a person at a terminal would. It waits for the
shell's prompt, types `uname -a` and checks the release printed against the kernel's boot
banner, then types `poweroff` and checks that softvmm ends with status 0 (the guest's ACPI
soft off).

    linux-console-check.py SOFTVMM KERNEL INITRD
"""
import os, pty, re, select, sys, time

softvmm, kernel, initrd = sys.argv[1:4]
argv = [softvmm, "run", kernel, "--initrd", initrd, "--append", "console=ttyS0", "-m", "256M"]
start = time.time()
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
seen = b""

def fail(why):
    sys.stderr.write("linux-console-check: %s\n--- the console's last output:\n%s\n" % (why, seen[-2000:].decode(errors="replace")))
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    sys.exit(1)

def expect(pattern, seconds, after=0):
    """Reads the console until `pattern` matches what came after offset `after`."""
    global seen
    deadline = time.time() + seconds
    while time.time() < deadline:
        m = re.search(pattern, seen[after:])
        if m:
            return m
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            seen += data
    fail("no %r within %d s" % (pattern, seconds))

banner = expect(rb"Linux version (\S+) ", 120)
expect(rb"SOFTVMM-READY", 120)
expect(rb"/ # (\x1b\[6n)?$", 60, len(seen) - 200 if len(seen) > 200 else 0)
mark = len(seen)
os.write(fd, b"uname -a\r")
m = expect(rb"\r\n(Linux \S+ (\S+) .*x86_64 GNU/Linux)\r\n", 30, mark)
if m.group(2) != banner.group(1):
    fail("uname -a gives release %s, the boot banner %s" % (m.group(2).decode(), banner.group(1).decode()))
print("linux-check: console: typed `uname -a`: %s" % m.group(1).decode())
expect(rb"/ # (\x1b\[6n)?$", 30, mark)
os.write(fd, b"poweroff\r")
deadline = time.time() + 60
while time.time() < deadline:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        try:
            seen += os.read(fd, 4096)
        except OSError:
            pass
else:
    fail("softvmm still running 60 s after poweroff")
code = os.waitstatus_to_exitcode(status)
if code != 0:
    fail("softvmm ended with status %d after poweroff, not 0" % code)
print("linux-check: console: typed `poweroff`: softvmm ended with status 0 after %.1f s" % (time.time() - start))
