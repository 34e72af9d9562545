"""``--expand`` on the command line and in ``%%derive``: the derivation with every definition
substituted, as ``derive(..., expand=True)``; without it, the steps use the definitions' names."""
from __future__ import annotations

import importlib.util

import pytest

from derivmagic.cli import main

MLP = "\n".join([r"h = \sigma(W_1 x + b_1)", r"\hat{y} = W_2 h + b_2",
                 r"L = \frac{1}{2}\|\hat{y} - y\|_2^2", r"\nabla_{W_1} L"])


@pytest.mark.parametrize("argv, names", [([], True), (["--expand"], False)], ids=["names", "expand"])
def test_command_line(capsys, argv, names):
    assert main([*argv, MLP]) == 0
    out = capsys.readouterr().out
    assert ("  dh " in out and "where z_1 = W_1 x + b_1" in out) is names
    assert ("d(σ(W_1 x + b_1))" in out) is not names


@pytest.mark.parametrize("option, names", [("", True), ("--expand", False)], ids=["names", "expand"])
def test_notebook_cell(option, names):
    if importlib.util.find_spec("IPython") is None:
        pytest.skip("IPython not installed (pip install -e '.[test]')")
    import IPython
    from IPython.testing.globalipapp import start_ipython
    from IPython.utils.capture import capture_output
    ip = start_ipython() or IPython.get_ipython()
    ip.run_line_magic("load_ext", "derivmagic")
    try:
        with capture_output() as out:
            result = ip.run_cell(f"%%derive {option}\n{MLP}")
        assert result.success, (out.stdout, out.stderr, result.error_in_exec)
        text = out.outputs[0].data["text/plain"]
        assert ("where z_1 = W_1 x + b_1" in text) is names
        assert ("d(σ(W_1 x + b_1))" in text) is not names
    finally:
        ip.run_line_magic("unload_ext", "derivmagic")
