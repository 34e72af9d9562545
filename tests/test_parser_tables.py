"""The parser's tables shipped beside grammar.lark: made from this grammar (``make parser`` after
every change to it), and giving the same trees as a parser built from the grammar."""
from __future__ import annotations

from importlib import resources

import pytest
from lark import Lark

from derivmagic.page import split_statements, strip_decorations, unwrap
from derivmagic.parse import PARSER_OPTIONS, SHIPPED_PARSER, _grammar, _parser_key, pair_bars, parser
from derivmagic.tex import brace_arguments
from test_tex_grouping import FORMULAS


def test_the_shipped_tables_are_made_from_this_grammar():
    head = resources.files("derivmagic").joinpath(SHIPPED_PARSER).read_bytes().split(b"\n", 1)[0].decode()
    shipped, wanted = head.split(" lark ")[0], _parser_key(_grammar()).split(" lark ")[0]
    assert shipped == wanted, "grammar.lark changed: run `make parser` to regenerate the shipped tables"


@pytest.fixture(scope="module")
def built() -> Lark:
    return Lark(_grammar(), **PARSER_OPTIONS)


def _statements():
    for _, cell in FORMULAS:   # the notes, the corpus and the tricky groupings
        for _, text in split_statements(strip_decorations(unwrap(cell))):
            yield pair_bars(brace_arguments(text).text)


def test_the_shipped_parser_reads_like_the_grammar(built):
    compared = 0
    for text in _statements():
        try:
            want = built.parse(text)
        except Exception as exc:   # noqa: BLE001 - the same refusal from both
            with pytest.raises(type(exc)):
                parser().parse(text)
            continue
        assert parser().parse(text) == want, text
        compared += 1
    assert compared > 300
