"""JSON Lines events decoded in bulk: one msgspec struct type per event type, checked in C.

Entry point: ``DecodedLines(chunks(stream), schema)``, with ``schema_for(ruleset)``
built once per ruleset. It yields, in input order, ``(line number, struct)``
for a line that certainly passes inputs.py's validation of its JSON shape
and value types, and ``(line number, raw bytes)`` for any other line, which
the caller hands to the careful path (inputs.parse_events), so that every
reject and message stays that path's. What the struct does not settle is
left to the caller too: the time (parsed in Python, as the careful path
does), duplicate ids, and subjects missing from a subjects file.

A struct is only ever an under-approximation of "valid": the types are
strict (an int field takes no float, a bool no number), ints stay within
64 bits, a number's range must be exact in binary floating point, and event
types whose fields are of other kinds (dates, durations, optional fields,
roles) are not in the union at all, so their lines take the careful path.
msgspec keeps the last of a key given twice, where the careful path refuses
the line; the decoder therefore also counts commas: a line has at least one
fewer than its keys, so when a whole chunk has exactly the commas its
structs' keys need, no line in it repeats a key.
"""

from __future__ import annotations

import math
import operator
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Literal, Union

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; without it the careful path reads all
    msgspec = None

CHUNK_BYTES = 1 << 23  # lines are decoded a chunk at a time, so the raw text never sits in memory whole
_INT64 = (-(1 << 63), (1 << 63) - 1)
_EXACT = 1 << 53  # a number's bounds beyond this would be compared in binary floating point
_SMALL_DOMAIN = ("bool",)  # values of such fields repeat: one dict per distinct tuple of values
_SUBJECT, _AT, _ID = "s_", "a_", "i_"  # the struct attributes of the keys every event line has


@dataclass(frozen=True, slots=True)
class FastType:
    """What the caller needs of one event type's struct."""

    name: str  # the event type
    names: tuple[str, ...]  # its fields, in declaration order
    values: object  # struct -> its field values: a tuple (or one value for one field), or None for no field
    members: int  # the keys of a line without an id: subject, type, at and the fields
    repeats: bool  # every field of a small domain (bool): the values dict can be shared


@dataclass(frozen=True, slots=True)
class Schema:
    decoder: object  # msgspec.json.Decoder of the union of the structs
    types: dict  # struct class -> FastType
    unset: object  # msgspec.UNSET: a line without an id


_SCHEMAS: dict[int, tuple[object, Schema | None]] = {}


def schema_for(ruleset, readable: list[str], roles: dict) -> Schema | None:
    """The decoder for a ruleset's event lines, or None when no event type can be decoded fast."""
    hit = _SCHEMAS.get(id(ruleset))
    if hit is not None and hit[0] is ruleset:
        return hit[1]
    schema = _build(ruleset, readable, roles) if msgspec is not None else None
    if len(_SCHEMAS) > 32:
        _SCHEMAS.clear()
    _SCHEMAS[id(ruleset)] = (ruleset, schema)
    return schema


def _value_type(f):
    """The msgspec type whose values convert() would accept unchanged, or None."""
    if f.optional or f.name in ("subject", "type", "at", "id"):
        return None
    kind, rng = f.type.name, f.range
    if kind == "bool" and rng is None and f.choices is None:
        return bool
    if kind == "text" and rng is None:
        return Literal[tuple(f.choices.values)] if f.choices is not None else str
    if kind not in ("int", "number") or f.choices is not None:
        return None
    low, high = _INT64
    if rng is not None:
        if any(isinstance(b, float) and not math.isfinite(b) or abs(b) > _EXACT for b in (rng.low, rng.high)):
            return None
        low, high = max(low, math.ceil(rng.low)), min(high, math.floor(rng.high))
    whole = Annotated[int, msgspec.Meta(ge=low, le=high)]
    if kind == "int":
        return whole
    fraction = float if rng is None else Annotated[float, msgspec.Meta(ge=rng.low, le=rng.high)]
    return Union[whole, fraction]


def _build(ruleset, readable: list[str], roles: dict) -> Schema | None:
    structs = []
    types = {}
    text = Annotated[str, msgspec.Meta(min_length=1)]
    for index, name in enumerate(readable):
        if name in roles:
            continue
        fields = ruleset.events[name].fields
        kinds = [_value_type(f) for f in fields]
        if any(k is None for k in kinds):
            continue
        attrs = [f"f{i}_" for i in range(len(fields))]
        rename = {_SUBJECT: "subject", _AT: "at", _ID: "id", **{a: f.name for a, f in zip(attrs, fields)}}
        struct = msgspec.defstruct(
            f"Event{index}", [(_SUBJECT, text), (_AT, str), *zip(attrs, kinds),
                              (_ID, Union[text, msgspec.UnsetType], msgspec.UNSET)],
            tag=name, tag_field="type", rename=rename, forbid_unknown_fields=True, gc=False)
        values = operator.attrgetter(*attrs) if attrs else None
        types[struct] = FastType(name, tuple(f.name for f in fields), values, 3 + len(fields),
                                 all(f.type.name in _SMALL_DOMAIN for f in fields))
        structs.append(struct)
    if not structs:
        return None
    union = structs[0] if len(structs) == 1 else Union[tuple(structs)]
    return Schema(msgspec.json.Decoder(union), types, msgspec.UNSET)


def chunks(stream, bom: bool = True, size: int | None = None):
    """The bytes of a binary stream in pieces that end at a line end (the last one may not).

    With ``bom``, a byte order mark at the start is dropped, as the text reader's utf-8-sig does.
    """
    size = size or CHUNK_BYTES
    rest = b""
    first = bom
    while True:
        block = stream.read(size)
        if first:
            first = False
            if block.startswith(b"\xef\xbb\xbf"):  # the byte order mark, as utf-8-sig drops it
                block = block[3:]
        if not block:
            if rest:
                yield rest
            return
        cut = block.rfind(b"\n") + 1
        if not cut:
            rest += block
            continue
        yield rest + block[:cut]
        rest = block[cut:]


class DecodedLines:
    """(line number, struct or the raw line) for every physical line of ``pieces`` (see ``chunks``).

    A chunk whose lines are all valid structs comes whole: (its first line's number, the list of structs).

    ``raw(number)`` gives back the bytes of a line just yielded as a struct,
    for a line the caller's own checks send to the careful path after all.
    """

    def __init__(self, pieces, schema: Schema):
        self.pieces = pieces
        self.schema = schema
        self._piece = b""
        self._first = 1  # the number of the current piece's first line
        self._lines: list[bytes] | None = None

    def raw(self, number: int) -> bytes:
        if self._lines is None:
            self._lines = self._piece.splitlines(keepends=True)
        return self._lines[number - self._first]

    def __iter__(self):
        schema = self.schema
        decode, decode_lines = schema.decoder.decode, schema.decoder.decode_lines
        types, unset = schema.types, schema.unset
        no_id = operator.attrgetter(_ID)
        failures = (msgspec.DecodeError, msgspec.ValidationError)
        number = 0
        for piece in self.pieces:
            self._piece, self._first, self._lines = piece, number + 1, None
            lines = piece.count(b"\n") + (not piece.endswith(b"\n"))
            structs = None
            # the bulk decoder would not count a lone \r (`in` finds none at memchr's speed; counting is 5x slower)
            if b"\r" not in piece or piece.count(b"\r") == piece.count(b"\r\n"):
                try:
                    structs = decode_lines(piece)
                except failures:
                    structs = None
            if structs is not None and len(structs) == lines:  # no blank line, every line one valid struct
                needed = sum(count * (types[cls].members - 1) for cls, count in Counter(map(type, structs)).items())
                needed += len(structs) - list(map(no_id, structs)).count(unset)
                if piece.count(b",") == needed:
                    yield number + 1, structs  # the whole chunk, its first line's number
                    number += lines
                    continue
            self._lines = piece.splitlines(keepends=True)
            for line in self._lines:  # line by line: the careful path takes what fails here
                number += 1
                try:
                    struct = decode(line)
                except failures:
                    yield number, line
                    continue
                members = types[type(struct)].members + (getattr(struct, _ID) is not unset)
                yield (number, struct) if line.count(b",") == members - 1 else (number, line)
