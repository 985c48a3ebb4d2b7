"""`costcalc gate` on the command line at its edges (trial 7): --out-dir names, a missing git,
the order of refusals, and what the last line and the hints say."""

from __future__ import annotations

import json
from pathlib import Path

from costcalc.gate import marker_for
from tests.conftest import RunCli
from tests.test_gate import BATCHED, commit
from tests.test_gate_bypass import repo

__all__ = ["repo"]  # the fixture


def test_out_dir_names_stay_distinct_when_two_paths_flatten_alike(
    repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    """`svc/new/costcalc.yaml` and `svc__new__costcalc.yaml` both became
    `svc__new__costcalc.yaml.md`: one file for two comments, comment-file the wrong one."""
    other = BATCHED.replace("requests_per_day: 20000", "requests_per_day: 100")
    commit(repo, {"svc/new/costcalc.yaml": BATCHED, "svc__new__costcalc.yaml": other}, "two")
    output = tmp_path / "github_output"
    output.write_text("")
    paths = ["svc/new/costcalc.yaml", "svc__new__costcalc.yaml"]
    for order in (paths, paths[::-1]):
        out = tmp_path / "out"
        result = run_cli("gate", *order, "--base", "HEAD", "--comment", "none", "--out-dir",
                         str(out), env={"GITHUB_OUTPUT": str(output)})  # fmt: skip
        assert result.exit_code == 0, result.stderr
        comments = sorted(p for p in out.iterdir() if p.suffix == ".md")
        markers = sorted(p.read_text().splitlines()[0] for p in comments)
        assert markers == sorted(marker_for(p) for p in paths)
        assert len(json.loads((out / "gate.json").read_text())["configs"]) == 2
        values = dict(ln.split("=", 1) for ln in output.read_text().splitlines())
        first = Path(values["comment-file"]).read_text()
        assert first.startswith(marker_for(order[0]) + "\n")
        for p in comments:
            p.unlink()
