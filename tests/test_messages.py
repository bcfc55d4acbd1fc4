"""Messages quote what they were given, but never a whole huge value: a 5,000-character
parameter in a file or a call gave a 5,000-character message."""

import pytest

import anndesigner as ad
from anndesigner.engine.optimizers import make_optimizer
from anndesigner.engine.schedules import make_schedule
from anndesigner.errors import AnnError, short_repr

HUGE = "x" * 5000


def test_short_repr_cuts_long_values_only():
    assert short_repr("abc") == "'abc'"
    cut = short_repr(HUGE)
    assert len(cut) == 60 and cut.startswith("'xxx") and cut.endswith("...")


@pytest.mark.parametrize("make", [
    lambda: ad.Graph().add_node("Dense", units=HUGE),
    lambda: ad.Graph().add_node("Dense", activation=HUGE),
    lambda: ad.Graph().add_node("Input", shape=[HUGE]),
    lambda: ad.Graph().add_node("Dense", use_bias=HUGE),
    lambda: make_optimizer(HUGE, []),
    lambda: make_optimizer("sgd", [], momentum=HUGE),
    lambda: make_schedule({"kind": HUGE}),
    lambda: make_schedule({"kind": "step", "step_size": HUGE}),
])
def test_a_huge_value_gives_a_short_message(make):
    with pytest.raises(AnnError) as e:
        make()
    assert len(str(e.value)) < 400, str(e.value)[:200]
    assert "xxxx" in str(e.value)  # it still shows what was given
