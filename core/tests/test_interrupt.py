"""A generate run killed midway (SIGKILL) leaves no package at the target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from coretest import write


def test_sigkill_midway_leaves_no_package(tmp_path):
    spec = write(tmp_path / "slow.toml", '[blocks.b]\nmodality = "toy"\nrecords = 100\npause = 60.0\n')
    target = tmp_path / "pkg"
    proc = subprocess.Popen([sys.executable, "-m", "medmgen.cli", "generate", str(spec), "-o", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        partial = []
        while time.monotonic() < deadline and not partial:
            partial = list(tmp_path.glob(".pkg.tmp-*/data/b.txt"))
            time.sleep(0.05)
        assert partial, "the run never reached the writing stage"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not target.exists()
