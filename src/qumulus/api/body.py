"""Reading request bodies: one edge every JSON body passes, whatever the endpoint.

* JSON whatever the Content-Type (pennylane sends none), UTF-8 (RFC 8259; a leading BOM is allowed);
* refused before parsing when larger than the limit (the declared length, then the bytes read);
* parsed on the event loop only when small: a large body is parsed in a thread *and in slices*
  (:mod:`qumulus.jsonslices`), so that one 60 MB job cannot stall every other request (a thread
  alone does not do it: ``json.loads`` holds the GIL for the whole parse);
* refused (400) when a number is out of range: not finite, or an integer past 64 bits;
* refused (400 naming the place) when it nests deeper than :data:`MAX_DEPTH`, or holds a NUL
  character or a lone UTF-16 surrogate (``"\\ud800"``) anywhere, keys included: no store can keep
  such a string (PostgreSQL refuses NUL; neither database nor JSON encoder round-trips a lone
  surrogate), and a deep document kills whatever recurses over it later (pickling a batch for the
  simulator process). These checks cost nothing on an ordinary body: each walks the document only
  when a cheap scan of the text says it may be needed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from qumulus import jsonslices
from qumulus.errors import InvalidRequest, PayloadTooLarge
from qumulus.jsonslices import escaped_quotes

#: The deepest nesting of objects and arrays a body may have (a job body needs about 8).
MAX_DEPTH = 64
#: Bodies up to this size are parsed on the event loop (tens of microseconds); larger ones in a thread.
INLINE_PARSE_BYTES = 64 * 1024

#: A ``\uD800``-``\uDFFF`` escape: the only way a lone surrogate reaches a strictly decoded text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


async def read_json(request: Request, max_bytes: int, *, required: bool = True) -> Any:
    """The request's JSON document (None for an empty optional body), or a 4xx naming the problem."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(
            f"body: the request is {declared} bytes; the limit is {max_bytes} bytes "
            "(QUMULUS_MAX_REQUEST_BYTES)",
            field="body",
        )
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"body: the request exceeds the limit of {max_bytes} bytes (QUMULUS_MAX_REQUEST_BYTES)",
                field="body",
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        if required:
            raise InvalidRequest("request body is empty; expected a JSON object", field="body")
        return None
    if len(raw) > INLINE_PARSE_BYTES:
        return await run_in_threadpool(parse_document, raw)
    return parse_document(raw)


def parse_document(raw: bytes) -> Any:
    """Bytes → a checked JSON document (see the module's docstring); 400 naming the problem."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest(
            f"body: not UTF-8 text (byte {exc.start}); JSON bodies are UTF-8", field="body"
        ) from None
    text = text.removeprefix("\ufeff")
    body = raw.removeprefix(b"\xef\xbb\xbf")
    structure = None
    if len(raw) > INLINE_PARSE_BYTES:  # large: scanned block by block (GIL handed over between)
        structure = jsonslices.scan(body)
        deep = structure.max_depth > MAX_DEPTH
        if deep:  # refused without parsing (a large deep document would hold the GIL to fail)
            raise _too_deep("body")
    else:  # nesting deeper than MAX_DEPTH needs more than MAX_DEPTH brackets: most skip the scan
        deep = raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and max_depth(raw) > MAX_DEPTH
    try:
        if structure is not None:
            # In slices, so the GIL is handed to the event loop between them (jsonslices): a
            # thread alone does not help, json.loads holds the GIL for the whole parse.
            document = jsonslices.loads(text, body, _DECODER, structure)
        else:
            document = _DECODER.decode(text)
    except RecursionError:
        raise _too_deep("body") from None
    except ValueError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}", field="body") from None
    nul = "\\u0000" in text
    # A substring search first (C, memchr speed): the regex over a 60 MB text holds the GIL ~1 s.
    surrogate = ("\\ud" in text or "\\uD" in text) and _SURROGATE_ESCAPE.search(text) is not None
    if nul or surrogate or deep:
        check_document(document, nul=nul, surrogate=surrogate)
    return document


def max_depth(raw: bytes) -> int:
    """The nesting depth of a valid JSON text, computed over its bytes at C speed (numpy) instead of
    walking the decoded document in Python, which costs several times the parse on a large circuit.
    Brackets inside strings do not count: a string starts at a quote that no odd run of
    backslashes escapes."""
    data = np.frombuffer(raw, np.uint8)
    quote = data == 0x22
    if b'\\"' in raw:  # some quotes follow a backslash: drop those an odd run of backslashes escapes
        quote[escaped_quotes(data)] = False
    outside = (np.cumsum(quote, dtype=np.uint8) & 1) == 0  # parity of the quotes so far (wraps evenly)
    opens = ((data == 0x5B) | (data == 0x7B)) & outside
    closes = ((data == 0x5D) | (data == 0x7D)) & outside
    delta = opens.view(np.int8) - closes.view(np.int8)
    return int(np.cumsum(delta, dtype=np.int32).max(initial=0))


def check_document(document: Any, *, nul: bool = True, surrogate: bool = True) -> None:
    """Walk ``document`` once (no recursion): depth, NUL characters, lone surrogates."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            _check_text(value, path or "body", nul=nul, surrogate=surrogate)
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = ((f"[{i}]", v) for i, v in enumerate(value))
        else:
            continue
        if depth >= MAX_DEPTH:
            raise _too_deep(path or "body")
        for key, item in items:
            if isinstance(value, dict):
                _check_text(key, f"{path}.{key}" if path else "body", nul=nul, surrogate=surrogate)
                where = f"{path}.{key}" if path else key
            else:
                where = f"{path}{key}" if path else f"body{key}"
            if isinstance(item, str | dict | list):
                stack.append((item, where, depth + 1))


def _check_text(text: str, where: str, *, nul: bool, surrogate: bool) -> None:
    where = _printable(where)
    if nul and "\x00" in text:
        raise InvalidRequest(
            f"{where}: contains a NUL character (\\u0000), which is not allowed", field=where
        )
    if surrogate and _SURROGATE.search(text):
        raise InvalidRequest(
            f"{where}: contains a lone UTF-16 surrogate (e.g. \\ud800), which is not text", field=where
        )


def _printable(where: str) -> str:
    """A field path safe to put in a message: bad characters of a key shown as escapes, length cut."""
    if _SURROGATE.search(where) or "\x00" in where:
        where = where.encode("utf-8", "backslashreplace").decode("ascii", "replace")
    return where if len(where) <= 200 else where[:200] + "…"


def _too_deep(where: str) -> InvalidRequest:
    where = _printable(where)
    message = f"{where}: nested deeper than {MAX_DEPTH} levels of objects and arrays"
    return InvalidRequest(message, field=where)


def _int64(token: str) -> int:
    if len(token) < 19:  # at most 18 digits (and a sign): always inside 64 bits
        return int(token)
    value = int(token)
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError(f"integer {token[:40]}{'…' if len(token) > 40 else ''} is out of range (64 bits)")
    return value


def _non_finite(token: str) -> float:
    raise ValueError(f"{token} is not a JSON number")


def _finite_float(token: str) -> float:
    value = float(token)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {token[:40]} is out of range")
    return value


#: Integers past 64 bits fit no column and no simulator seed, and non-finite numbers are no JSON:
#: refused here, once for every field (``ValueError`` → 400).
_DECODER = json.JSONDecoder(parse_constant=_non_finite, parse_float=_finite_float, parse_int=_int64)
