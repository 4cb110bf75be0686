"""`caravan plugin new`: the generated distributions install and pass their own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.app.cli import main
from core.plugins.scaffold import SCAFFOLD_KINDS as KINDS
from core.plugins.testing.fixtures import postgres_url

ROOT = Path(__file__).resolve().parents[2]
PG_URL = postgres_url()
GUIDE = ROOT / "tests" / "plugin_guide" / "guide_checkout.py"


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "uv is installed by `make env`"
    return found


def test_every_kind_generates_a_plugin_that_installs_and_passes_its_tests(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    roots = []
    for kind in KINDS:
        made = runner.invoke(
            main, ["plugin", "new", f"gen_{kind}", "--kind", kind, "--dir", str(tmp_path)]
        )
        assert made.exit_code == 0, made.output
        roots.append(tmp_path / f"caravan-gen-{kind}")
    site = tmp_path / "site"
    installed = subprocess.run(  # noqa: S603
        [_uv(), "pip", "install", "--python", sys.executable, "--no-deps", "--target", str(site)]
        + [str(root) for root in roots],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("CARAVAN_TEST_DATABASE_URL", None)
    for root in roots:
        ran = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert " passed" in ran.stdout
        assert "failed" not in ran.stdout
    for kind in ("payment", "affiliate"):
        info = subprocess.run(  # noqa: S603
            [str(Path(sys.executable).with_name("caravan")), "plugins", "info", f"gen_{kind}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert info.returncode == 0, info.stderr
        assert f'"name": "caravan-gen-{kind}"' in info.stdout
        assert f'"kind": "{kind}",\n      "code": "gen_{kind}"' in info.stdout
    # The README's steps: list the payment plugin's wheel in the marketplace, have it
    # approved, install the plugins in a store, activate them for a region, see them in a
    # checkout (same engine, its own database).
    built = subprocess.run(  # noqa: S603
        [_uv(), "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(roots[0])],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("caravan_gen_payment-*.whl")
    guide_env = {**os.environ, "PYTHONPATH": str(site), "CARAVAN_GUIDE_WHEEL": str(wheel)}
    if PG_URL:
        guide_env["CARAVAN_TEST_DATABASE_URL"] = PG_URL + "_guide"
    guide = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:randomly",
            "tests/plugin_guide/guide_checkout.py",
        ],
        cwd=ROOT,
        env=guide_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert guide.returncode == 0, guide.stdout + guide.stderr
    assert "1 passed" in guide.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad-Name", "--kind", "tax"], "plugin name 'Bad-Name'"),
        (["ok_name", "--kind", "teleport"], "Invalid value for '--kind'"),
    ],
)
def test_bad_names_and_kinds_are_refused(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["plugin", "new", *args, "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert message in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "caravan-taken"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["plugin", "new", "taken", "--kind", "tax", "--dir", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "exists already" in result.output
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
