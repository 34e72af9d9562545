# ---- fuzzing (tests/test_properties.py, tests/test_mutation_fuzz.py) -------------------------
# `make test` skips tests marked `fuzz`; `make fuzz` (pytest -m fuzz) runs them. Their number of
# examples comes from DERIVMAGIC_FUZZ_EXAMPLES or --fuzz-examples N (default 2000 per test).
# Tests count what they did in the session-wide `fuzz_stats` dict; a summary line is printed.
import os

import pytest

_FUZZ_STATS_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="examples per fuzz test (default: $DERIVMAGIC_FUZZ_EXAMPLES or 2000)")


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: long randomized runs (make fuzz); skipped unless selected with -m fuzz")
    n = config.getoption("--fuzz-examples")
    if n is not None:
        os.environ["DERIVMAGIC_FUZZ_EXAMPLES"] = str(n)   # read by the test modules when they are imported
    config.stash[_FUZZ_STATS_KEY] = {}


def pytest_collection_modifyitems(config, items):
    selected = "fuzz" in (config.getoption("-m") or "") or config.getoption("--fuzz-examples") is not None
    if selected:
        return
    skip = pytest.mark.skip(reason="fuzz run: use `make fuzz` (pytest -m fuzz) or --fuzz-examples N")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def fuzz_stats(pytestconfig):
    """Counters {label: count} shared by the property and fuzz tests, printed at the end."""
    return pytestconfig.stash[_FUZZ_STATS_KEY]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    stats = config.stash.get(_FUZZ_STATS_KEY, {})
    if stats:
        total = sum(v for k, v in stats.items() if ":" not in k)
        parts = ", ".join(f"{k} {v:,}" for k, v in sorted(stats.items()))
        terminalreporter.write_line(f"derivmagic fuzz/property summary: {total:,} inputs checked ({parts})")
