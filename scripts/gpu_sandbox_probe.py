"""Which part of the bwrap sandbox keeps a GPU child from seeing its device: run a tiny CUDA
program under the verifier's own bwrap command line and under variants that each leave one
restriction out, and print one line per variant (run on a GPU machine; see device_check.sh).

    python scripts/gpu_sandbox_probe.py
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from kernelwright.verifier import sandbox
from kernelwright.verifier.seccomp import seccomp_fd
from kernelwright.verifier.secrets_guard import child_environment

PROBE = (
    "import torch; n = torch.cuda.device_count(); x = torch.ones(4, device='cuda'); "
    "torch.cuda.synchronize(); print('OK devices', n, float(x.sum()))"
)


def host_facts() -> None:
    print("== host")
    for node in sorted(glob.glob("/dev/nvidia*")):
        st = os.stat(node)
        print(f"{node} mode={oct(st.st_mode & 0o777)} uid={st.st_uid} gid={st.st_gid}")
    for name in sorted(os.environ):
        if any(k in name for k in ("CUDA", "NVIDIA", "CXX", "CC", "LD_LIBRARY")) or name == "CC":
            print(f"env {name}={os.environ[name]}")
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    found = subprocess.run([ldconfig, "-p"], capture_output=True, text=True).stdout
    print(
        "libcuda:",
        [line.split("=>")[-1].strip() for line in found.splitlines() if "libcuda.so" in line][:3],
    )
    print("prlimit:", shutil.which("prlimit"), "setpriv:", shutil.which("setpriv"))


def variant(
    name: str,
    *,
    seccomp: bool,
    rules: dict[str, bool] | None = None,
    drop_uid: bool,
    whole_dev: bool,
    nproc: bool,
    unshare: bool = True,
    plain: bool = False,
) -> None:
    scratch = Path(tempfile.mkdtemp(prefix="kwprobe-"))
    os.chmod(scratch, 0o777)
    command = [sys.executable, "-I", "-c", PROBE]
    if nproc and sandbox.is_root():
        command = ["prlimit", "--nproc=1024:1024", "--", *command]
    fd = (seccomp_fd(**(rules or {})) or -1) if seccomp else -1
    mounts = sandbox.Mounts(devices=sandbox.gpu_device_nodes())
    argv = sandbox._bwrap_argv(scratch, mounts, command, fd if fd >= 0 else None)
    if not drop_uid and "setpriv" in argv:
        start = argv.index("setpriv")
        end = argv.index("--bounding-set=-all") + 1
        del argv[start:end]
    if whole_dev:
        at = argv.index("--dev")
        argv[at : at + 2] = ["--dev-bind", "/dev", "/dev"]
    if not unshare:
        argv = [a for a in argv if a not in ("--unshare-ipc", "--unshare-pid")]
    if plain:
        argv = command
    env = {**child_environment(), "HOME": str(scratch), "TMPDIR": str(scratch)}
    try:
        done = subprocess.run(
            argv,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            pass_fds=(fd,) if fd >= 0 else (),
        )
        tail = (done.stdout.strip().splitlines() or [""])[-1]
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])[-400:]
        print(f"{name:34} rc={done.returncode} {tail}")
    except subprocess.TimeoutExpired:
        print(f"{name:34} timed out")
    finally:
        if fd >= 0:
            os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    host_facts()
    print("== variants (the verifier's is the first)")
    variant(
        "verifier (seccomp, uid drop, nproc)",
        seccomp=True,
        drop_uid=True,
        whole_dev=False,
        nproc=True,
    )
    variant("no nproc limit", seccomp=True, drop_uid=True, whole_dev=False, nproc=False)
    variant("no seccomp", seccomp=False, drop_uid=True, whole_dev=False, nproc=True)
    variant("no uid drop", seccomp=True, drop_uid=False, whole_dev=False, nproc=True)
    variant("whole /dev", seccomp=True, drop_uid=True, whole_dev=True, nproc=True)
    variant(
        "ipc and pid shared",
        seccomp=True,
        drop_uid=True,
        whole_dev=False,
        nproc=True,
        unshare=False,
    )
    variant("none of the four", seccomp=False, drop_uid=False, whole_dev=True, nproc=False)
    variant(
        "no sandbox at all", seccomp=False, drop_uid=False, whole_dev=False, nproc=False, plain=True
    )


if __name__ == "__main__":
    main()
