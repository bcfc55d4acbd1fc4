"""Guided tours: a short walk through a network, stored as data in its file.

A network file may hold an optional member ``tour.json`` (since 0.1; older
versions ignore members they do not know, so the schema version of
``network.json`` is unchanged, like ``optimizer.npz``)::

    {"version": 1,
     "title": "What one neuron computes",
     "steps": [
       {"text": "The **perceptron** adds its weighted inputs ...",
        "highlight": ["neuron_1"],            # node ids, ringed on the canvas
        "open": "explain",                      # a view to show (optional)
        "action": {"do": "explain-sample", "row": 3}},   # optional
       ...]}

Everything is data: no code, no expressions, nothing that runs. The fields:

``text``
    plain text of at most :data:`MAX_TEXT` characters; a blank line starts a
    paragraph, ``**bold**``, ``*italic*`` and ```code``` are the only markup
    (:func:`text_html` escapes everything else, so no HTML of the file's own
    ever reaches a widget).
``highlight``
    at most :data:`MAX_HIGHLIGHT` node ids.
``open``
    one of :data:`VIEWS`.
``action``
    an object whose ``do`` is one of :data:`ACTIONS`:
    ``explain-sample`` (``row``: a data row, optional ``granularity``),
    ``explain-forward`` (``steps``: 1 to :data:`MAX_FORWARD`, optional
    ``granularity``), ``select-node`` (``node``: a node id). There is no
    training action on purpose: a tour only shows, it never changes the
    document (training is the user's own press of Train).

:func:`parse_tour` checks all of it and raises :class:`FileFormatError` naming
the step and the field for anything else (an unknown key, a wrong type, a size
past its bound). Node ids are checked against the graph when ``node_ids`` is
given: an id the graph does not have is *dropped* with a note in
:attr:`Tour.problems` (the file's tour still opens: a node renamed or deleted
after the tour was written costs only its ring), unless ``strict`` asks to
refuse it (as ``tools/add_tours.py`` does for the shipped samples).

:func:`load_network <anndesigner.io.annfile.load_network>` never fails
because of ``tour.json``: a damaged one is dropped with a :class:`TourWarning`
naming the problem, and the network opens without its tour.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..errors import FileFormatError, short_repr

TOUR_VERSION = 1
#: the most steps of a tour
MAX_STEPS = 50
#: the most characters of a step's text, and of the title
MAX_TEXT = 2000
MAX_TITLE = 200
#: the most node ids one step may highlight
MAX_HIGHLIGHT = 64
#: the most explain steps one ``explain-forward`` action may take
MAX_FORWARD = 500
#: the largest data row an ``explain-sample`` action may name
MAX_ROW = 10_000_000
#: the most bytes ``tour.json`` may unpack to
MAX_BYTES = 256 * 1024
#: views a step may open (the window's docks; "canvas" only centres the canvas)
VIEWS = ("explain", "training", "data", "surface", "plots", "inspector", "palette", "canvas")
#: actions a step may run, with their fields: name -> {field: required}
ACTIONS: dict[str, dict[str, bool]] = {
    "explain-sample": {"row": True, "granularity": False},
    "explain-forward": {"steps": True, "granularity": False},
    "select-node": {"node": True},
}
#: how far one explain step goes (the Explain panel's choices)
GRANULARITIES = ("operation", "node", "pass")

_STEP_KEYS = ("text", "highlight", "open", "action")
_TOUR_KEYS = ("version", "title", "steps")


class TourWarning(UserWarning):
    """A file's tour cannot be used (or part of it); the network opened without it."""


@dataclass(frozen=True)
class Action:
    do: str
    row: int | None = None
    steps: int | None = None
    granularity: str | None = None
    node: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"do": self.do}
        for k in ("row", "steps", "granularity", "node"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d


@dataclass(frozen=True)
class TourStep:
    text: str
    highlight: tuple[str, ...] = ()
    open: str | None = None
    action: Action | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.highlight:
            d["highlight"] = list(self.highlight)
        if self.open is not None:
            d["open"] = self.open
        if self.action is not None:
            d["action"] = self.action.to_dict()
        return d

    def node_ids(self) -> list[str]:
        """Every node id the step names (its rings and its action's node)."""
        out = list(self.highlight)
        if self.action is not None and self.action.node is not None:
            out.append(self.action.node)
        return out


@dataclass(frozen=True)
class Tour:
    title: str
    steps: tuple[TourStep, ...]
    #: what parse_tour dropped (unknown node ids), one sentence each; not saved
    problems: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"version": TOUR_VERSION, "title": self.title, "steps": [s.to_dict() for s in self.steps]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, allow_nan=False)


# ------------------------------------------------------------------ parsing
def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number"}.get(type(v), type(v).__name__)


def _text(v: Any, limit: int, where: str) -> str:
    if not isinstance(v, str):
        raise FileFormatError(f"{where} must be text, not {_kind(v)} {short_repr(v)}")
    if len(v) > limit:
        raise FileFormatError(f"{where} is {len(v):,} characters long; at most {limit:,} are allowed")
    if any(ord(c) < 32 and c not in "\n\t" for c in v):
        raise FileFormatError(f"{where} holds control characters")
    return v


def _whole(v: Any, lo: int, hi: int, where: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool):
        raise FileFormatError(f"{where} must be a whole number, not {_kind(v)} {short_repr(v)}")
    if not lo <= v <= hi:
        raise FileFormatError(f"{where} must be from {lo:,} to {hi:,}, not {v:,}")
    return v


def _node_id(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v or len(v) > 200:
        raise FileFormatError(f"{where} must be a node id (text of 1 to 200 characters), not {_kind(v)} "
                              f"{short_repr(v)}")
    return v


def _keys(obj: dict, allowed: Iterable[str], where: str) -> None:
    for k in obj:
        if k not in allowed:
            raise FileFormatError(f"{where} has an unknown key {short_repr(k)} (allowed: {', '.join(allowed)})")


def _choice(v: Any, allowed: Iterable[str], where: str) -> str:
    allowed = tuple(allowed)
    if not isinstance(v, str) or v not in allowed:
        raise FileFormatError(f"{where} must be one of {', '.join(allowed)}, not {short_repr(v)}")
    return v


def _action(v: Any, where: str) -> Action:
    if not isinstance(v, dict):
        raise FileFormatError(f"{where} must be an object, not {_kind(v)} {short_repr(v)}")
    do = _choice(v.get("do"), ACTIONS, f"{where}.do")
    spec = ACTIONS[do]
    _keys(v, ("do", *spec), f"{where} ({do})")
    for k, required in spec.items():
        if required and k not in v:
            raise FileFormatError(f"{where} ({do}) needs '{k}'")
    kw: dict[str, Any] = {}
    if "row" in v:
        kw["row"] = _whole(v["row"], 0, MAX_ROW, f"{where}.row")
    if "steps" in v:
        kw["steps"] = _whole(v["steps"], 1, MAX_FORWARD, f"{where}.steps")
    if "granularity" in v:
        kw["granularity"] = _choice(v["granularity"], GRANULARITIES, f"{where}.granularity")
    if "node" in v:
        kw["node"] = _node_id(v["node"], f"{where}.node")
    return Action(do, **kw)


def _step(v: Any, where: str) -> TourStep:
    if not isinstance(v, dict):
        raise FileFormatError(f"{where} must be an object, not {_kind(v)} {short_repr(v)}")
    _keys(v, _STEP_KEYS, where)
    if "text" not in v:
        raise FileFormatError(f"{where} has no 'text'")
    text = _text(v["text"], MAX_TEXT, f"{where}.text")
    hl = v.get("highlight", [])
    if not isinstance(hl, list):
        raise FileFormatError(f"{where}.highlight must be a list of node ids, not {_kind(hl)} {short_repr(hl)}")
    if len(hl) > MAX_HIGHLIGHT:
        raise FileFormatError(f"{where}.highlight names {len(hl):,} nodes; at most {MAX_HIGHLIGHT} are allowed")
    ids = tuple(dict.fromkeys(_node_id(x, f"{where}.highlight[{i}]") for i, x in enumerate(hl)))
    view = v.get("open")
    if view is not None:
        view = _choice(view, VIEWS, f"{where}.open")
    act = _action(v["action"], f"{where}.action") if v.get("action") is not None else None
    return TourStep(text, ids, view, act)


def parse_tour(obj: Any, where: str = "tour.json", node_ids: Iterable[str] | None = None, *,
               strict: bool = False) -> Tour:
    """The :class:`Tour` in ``obj`` (a parsed ``tour.json``), or
    :class:`FileFormatError` naming ``where``, the step and the field.

    ``node_ids``: the graph's nodes; ids a step names that are not among them
    are dropped (a highlight ring, or a ``select-node`` action) with a note in
    ``Tour.problems``, or, with ``strict``, refused."""
    if not isinstance(obj, dict):
        raise FileFormatError(f"{where} must hold an object, not {_kind(obj)} {short_repr(obj)}")
    _keys(obj, _TOUR_KEYS, where)
    version = obj.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise FileFormatError(f"{where}: 'version' must be a whole number, not {short_repr(version)}")
    if version != TOUR_VERSION:
        raise FileFormatError(f"{where}: tour version {version} is not one this program reads "
                              f"(it reads version {TOUR_VERSION})")
    title = _text(obj.get("title", ""), MAX_TITLE, f"{where}: 'title'")
    steps = obj.get("steps")
    if not isinstance(steps, list):
        raise FileFormatError(f"{where}: 'steps' must be a list, not {_kind(steps)} {short_repr(steps)}")
    if not steps:
        raise FileFormatError(f"{where}: 'steps' is empty; a tour needs at least one step")
    if len(steps) > MAX_STEPS:
        raise FileFormatError(f"{where}: the tour has {len(steps):,} steps; at most {MAX_STEPS} are allowed")
    parsed = [_step(s, f"{where}: step {i + 1}") for i, s in enumerate(steps)]
    problems: list[str] = []
    if node_ids is not None:
        known = set(node_ids)
        for i, s in enumerate(parsed):
            here = f"{where}: step {i + 1}"
            gone = [n for n in s.highlight if n not in known]
            act = s.action
            if act is not None and act.node is not None and act.node not in known:
                gone_act = act.node
            else:
                gone_act = None
            if (gone or gone_act) and strict:
                bad = gone[0] if gone else gone_act
                field_ = "highlight" if gone else "action.node"
                raise FileFormatError(f"{here}.{field_}: the network has no node {short_repr(bad)}")
            if gone:
                problems.append(f"{here}.highlight: no node {', '.join(map(short_repr, gone))} in the network "
                                "(dropped)")
            if gone_act:
                problems.append(f"{here}.action.node: no node {short_repr(gone_act)} in the network "
                                "(the action is dropped)")
            if gone or gone_act:
                parsed[i] = TourStep(s.text, tuple(n for n in s.highlight if n in known), s.open,
                                     None if gone_act else act)
    return Tour(title, tuple(parsed), tuple(problems))


def tour_from_bytes(raw: bytes, where: str = "tour.json", node_ids: Iterable[str] | None = None) -> Tour:
    """Parse the bytes of a ``tour.json`` member (size, UTF-8, JSON, then :func:`parse_tour`)."""
    if len(raw) > MAX_BYTES:
        raise FileFormatError(f"{where} is {len(raw):,} bytes; at most {MAX_BYTES:,} are allowed")
    try:
        obj = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise FileFormatError(f"{where} is not UTF-8 text") from None
    except RecursionError:
        raise FileFormatError(f"{where} is nested too deeply") from None
    except json.JSONDecodeError as e:
        raise FileFormatError(f"{where} is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except ValueError as e:
        raise FileFormatError(f"{where} cannot be read ({e})") from None
    return parse_tour(obj, where, node_ids)


def _no_constant(s: str) -> Any:
    raise ValueError(f"{s} is not a number JSON allows")


# ------------------------------------------------------------------ showing
_MARK = re.compile(r"\*\*(.+?)\*\*|\*(.+?)\*|`(.+?)`", re.S)


def _inline(s: str) -> str:
    out, pos = [], 0
    for m in _MARK.finditer(s):
        out.append(html.escape(s[pos:m.start()]))
        b, i, c = m.groups()
        if b is not None:
            out.append(f"<b>{html.escape(b)}</b>")
        elif i is not None:
            out.append(f"<i>{html.escape(i)}</i>")
        else:
            out.append(f"<code>{html.escape(c)}</code>")
        pos = m.end()
    out.append(html.escape(s[pos:]))
    return "".join(out).replace("\n", "<br>")


def text_html(text: str) -> str:
    """A step's text as HTML: every character escaped, then paragraphs (blank
    lines), ``**bold**``, ``*italic*`` and ```code``` made into tags."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{_inline(p)}</p>" for p in paras)
