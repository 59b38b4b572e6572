"""One import root: the wheel installs ``sciml`` alone; the source folders are not packages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"sciml": ROOT / "sciml", "sciml.solvers": ROOT / "solvers",
           "sciml.data_gen": ROOT / "data_gen"}


def _run(code: str, cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env_path = [] if extra_path is None else [str(extra_path)]
    prelude = f"import sys; sys.path[:0] = {env_path!r}; "
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_listed_packages_are_exactly_the_folders_with_an_init():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {k: v.name for k, v in FOLDERS.items()}
    found = set()
    for name, folder in FOLDERS.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder).parts
            if "sciml" == name and rel[:1] in (("solvers",), ("data_gen",)):
                continue
            found.add(".".join((name, *rel)))
    assert set(config["packages"]) == found


def test_the_wheel_has_exactly_one_top_level_package(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("sciml", "solvers", "data_gen"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    wheel, = tmp_path.glob("*.whl")
    assert wheel.name.startswith("sciml_solve-")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"sciml"}
    assert "sciml/solvers/deep_cd/weights/multigrid_3d.pt" in names
    assert "sciml/data_gen/cli.py" in names and "sciml/solvers/classical/cg.py" in names


def test_a_solve_imports_no_bare_solvers_package(tmp_path):
    result = _run("import sciml; p = sciml.problems.Poisson(shape=(8, 8)); "
                  "s = sciml.solve(p, method='cg'); assert s.converged; "
                  "assert 'solvers' not in sys.modules and 'data_gen' not in sys.modules; "
                  "assert 'sciml.solvers.classical.cg' in sys.modules", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_users_own_solvers_and_data_gen_do_not_shadow_sciml(tmp_path):
    (tmp_path / "solvers").mkdir()
    (tmp_path / "solvers" / "__init__.py").write_text("raise RuntimeError('the user solvers')")
    (tmp_path / "data_gen.py").write_text("raise RuntimeError('the user data_gen')")
    result = _run("import sciml; p = sciml.problems.Poisson(shape=(8, 8)); "
                  "assert sciml.solve(p, method='amg').converged; "
                  "from sciml.cli import main; "
                  "sys.exit(main(['datagen', 'poisson', '--shape', '8', '8', '--samples', '2', "
                  "'--out', 'g.h5', '--workers', '1']))", cwd=tmp_path, extra_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.h5").is_file()


@pytest.mark.parametrize("bare, full", [("solvers", "sciml.solvers"),
                                        ("data_gen", "sciml.data_gen")])
def test_importing_a_source_folder_by_its_bare_name_says_what_to_import(bare, full):
    result = _run(f"import {bare}", cwd=ROOT, extra_path=ROOT)
    assert result.returncode != 0
    assert f"import {full}" in result.stderr


def test_sciml_bench_finds_the_source_trees_benchmarks_from_any_folder(tmp_path, monkeypatch):
    from sciml.cli import benchmarks_folder, main

    monkeypatch.chdir(tmp_path)
    assert benchmarks_folder() == ROOT / "benchmarks"
    assert main(["bench", "no_such_benchmark"]) == 2
