"""An analyst at a shell types `vigil investigate acct_1` and the dossier is there at once: the
command loads the store and the rooms it reads, not Slack, charts, the HTTP clients, the
language model, rich or the ML libraries, and the dossier does not drag in enforcement's
worker or the anomaly detector.

No timing here (the machine is shared; bench/cli_start.py measures it): each command runs in
a fresh interpreter that lists what it loaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from store.db import Database
from tests.foundation.test_cli_startup import shell, vigil

# What only a running Vigil, a terminal, a chart or a model needs.
HEAVY = (
    "matplotlib",
    "slack_bolt",
    "slack_sdk",
    "httpx",
    "starlette",
    "uvicorn",
    "openai",
    "rich",
    "sklearn",
    "datasketch",
)

LAZY_PACKAGES = (
    "workflows.anomalies",
    "workflows.cases",
    "workflows.enforcement",
    "workflows.investigations",
    "workflows.signals",
)


def _heavy(loaded: set[str]) -> set[str]:
    return {name for name in loaded if name.split(".")[0] in HEAVY}


def test_the_dossier_loads_no_adapter_nor_enforcements_worker_nor_the_detector(
    db: Database, tmp_path: Path
) -> None:
    done, loaded = vigil(["investigate", "acct_1"], shell(db, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Investigation of acct_1")
    assert _heavy(loaded) == set()
    # The ledger is read through enforcement's views; its executor and jobs stay unloaded.
    assert "workflows.enforcement.views" in loaded
    assert not {"workflows.enforcement.executor", "workflows.enforcement.jobs"} & loaded
    assert not {m for m in loaded if m.startswith("workflows.anomalies")}
    # The team's config names no holiday countries: the calendar's library stays unloaded.
    assert "holidays" not in loaded


@pytest.mark.parametrize(
    "args",
    [["enforcement", "list"], ["anomalies", "detect"], ["audit", "verify"], ["digest", "runs"]],
    ids=" ".join,
)
def test_other_shell_commands_load_none_of_the_heavy_libraries(
    args: list[str], db: Database, tmp_path: Path
) -> None:
    done, loaded = vigil(args, shell(db, tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    assert _heavy(loaded) == set()


def test_reading_the_ledger_loads_neither_the_executor_nor_its_jobs(db: Database, tmp_path: Path) -> None:
    for args in (["enforcement", "list"], ["enforcement", "show", "REQ-1"]):
        _done, loaded = vigil(args, shell(db, tmp_path))
        assert "workflows.enforcement.views" in loaded, args
        assert not {"workflows.enforcement.executor", "workflows.enforcement.jobs"} & loaded, args


def test_a_bad_account_id_still_stops_with_its_reason(db: Database, tmp_path: Path) -> None:
    done, loaded = vigil(["investigate", "not an id!"], shell(db, tmp_path))
    assert done.returncode == 2
    assert "'not an id!' is not an account id" in done.stderr
    assert _heavy(loaded) == set()


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_a_lazy_package_still_exports_every_name_it_lists(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
    for name in module.__all__:
        getattr(module, name)
        assert name in vars(module)  # kept: the room is not asked again
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        module.Nothing  # noqa: B018
