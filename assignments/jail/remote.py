"""Calls across the wall between the grader and a student's kernel: no shared memory, no pickle.

While a submission is graded, the hidden tests run in the grader's own process. Every name they
take from the notebook (the student's functions and classes) is a proxy: calling it sends the
arguments to the student's kernel, runs the student's code there and brings the result back.
Student code can return wrong numbers, but it can never reach the grader's numpy, builtins,
modules or test code, so monkeypatching, input transformers or `sys.modules` games in the
notebook change nothing about how the hidden tests judge.

What crosses, and how:
- by value (copied): None, bool, int, float, complex, str, bytes, numpy arrays (numeric, bool or
  string dtypes) and scalars, dtypes and numpy scalar types, slices, and tuples, lists, dicts and
  sets of these;
- by handle: everything else (functions, classes, objects). A handle can be called, and its
  attributes and items read and set; they live in the process that made them.

Semantics kept, so that the checks read as if everything were local:
- arguments the callee changes in place (an optimizer updating `w`, `bn_param` receiving running
  averages) are written back into the caller's objects;
- numpy's global RNG (`np.random.seed`, `np.random.randn`) is one state: it travels with each call;
- attributes and items that are dicts or lists come back as live views, so `model.params[k] = v`
  changes the remote model; a view is an instance of dict or list and behaves as the plain
  container of its current contents under `dict(...)`, `{**d}`, iteration, `.items()`, `copy.copy`,
  `copy.deepcopy`, `pickle`, `json.dumps` and `np.asarray` (copies are plain, not live);
- copying a handle to an object copies the object where it lives (a new handle); pickling is refused;
- exceptions come back as the same builtin type with the same arguments (others as RemoteError).

The grader gives the student's side access only to the callables it passes and to the attribute
names a class lists in `REMOTE_API`. Decoding never imports, evaluates or unpickles anything the
other side names. Wire format: frames of a JSON header followed by raw array buffers.
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import json
import select
import socket
import struct
import time
from collections.abc import Mapping, MutableMapping, MutableSequence
from typing import Any, Callable

import numpy as np

MAX_HEADER_BYTES = 256 * 2**20
MAX_FRAME_BYTES = 16 * 2**30
MAX_DEPTH = 64
ARRAY_KINDS = set("biufcSU")


class RemoteError(Exception):
    """An exception from the other side whose type cannot cross (a student-defined class, SystemExit…)."""

    def __init__(self, type_name: str, message: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name


class ChannelClosed(BaseException):
    """The other side went away: its process died or it closed the channel.

    A BaseException, like KeyboardInterrupt, so that a check's `except Exception` around a
    student call cannot swallow it.
    """


class SessionOver(RuntimeError):
    """A grader's object used in the student's kernel after its grading session ended (a cell
    that kept one). An Exception, unlike ChannelClosed: the notebook's own code may handle it."""


class CallTimeout(BaseException):
    """No answer from the other side before the deadline (see Endpoint.deadline)."""


class ProtocolError(Exception):
    """A frame that does not follow the format (corrupt, oversized, or naming unknown things)."""


_EXCEPTIONS = {name: value for name, value in vars(builtins).items()
               if isinstance(value, type) and issubclass(value, Exception)}
_EXCEPTIONS.update({"numpy.exceptions.AxisError": np.exceptions.AxisError,
                    "numpy.linalg.LinAlgError": np.linalg.LinAlgError})
_TYPES: dict[str, type] = {f"numpy.{t.__name__}": t for t in set(np.sctypeDict.values())}
_TYPES.update({t.__name__: t for t in (bool, int, float, complex, str, bytes)})
_TYPE_NAMES = {t: name for name, t in _TYPES.items()}


class Endpoint:
    """One side of a channel (a connected stream socket) between grader and student kernel.

    Inputs:
    - sock: a connected socket; the endpoint owns it.
    - namespace: names the other side may look up (the student's notebook globals), or None.
    - trusting: True on the student's side (the grader may touch any of its objects); False on the
      grader's side, where requests are limited to calling the callables it sent and to reading
      and setting the attributes named in their class's REMOTE_API.
    """

    def __init__(self, sock: socket.socket, *, namespace: dict | None = None, trusting: bool):
        self.sock = sock
        self.namespace = namespace
        self.trusting = trusting
        self.deadline: float | None = None
        self.closed = False
        self._objects: dict[int, Any] = {}
        self._ids: dict[int, int] = {}
        self._live: set[int] = set()
        self._blas_limit: Any = None

    # -- what the hidden tests use ------------------------------------------------------------
    def lookup(self, name: str) -> Any:
        """The value of `name` in the other side's namespace; KeyError when it has none."""
        return self._request({"op": "lookup", "name": name})

    def serve(self) -> None:
        """Answer requests until the other side says it is done (or goes away)."""
        while not self.closed:
            header, buffers = self._receive()
            if header.get("op") == "done":
                self.closed = True
                return
            self._answer(header, buffers)

    def close(self) -> None:
        """Tell the other side that this session is over, and close the channel."""
        if not self.closed:
            try:
                self._send({"op": "done"}, [])
            except ChannelClosed:
                pass
            self.closed = True
        self.sock.close()

    # -- requests -------------------------------------------------------------------------------
    def _request(self, header: dict, buffers: list | None = None, writeback: tuple = ()) -> Any:
        if self.closed and self.trusting:
            raise SessionOver("this object belonged to the grader's hidden tests, which have finished")
        if self.closed:
            raise ChannelClosed("the grading session is over")
        self._send(header, buffers or [])
        while True:
            reply, reply_buffers = self._receive()
            if "op" in reply:  # a call back into this side while the other side works
                self._answer(reply, reply_buffers)
                continue
            if "rng" in reply:
                _set_rng_state(self._decode(reply["rng"], reply_buffers))
            if "error" in reply:
                raise _rebuild_exception(reply["error"], lambda v: self._decode(v, reply_buffers))
            for position, value in reply.get("writeback", []):
                _write_back(writeback, position, self._decode(value, reply_buffers))
            return self._decode(reply["value"], reply_buffers)

    def call(self, handle: int, args: tuple, kwargs: dict) -> Any:
        encoder = _Encoder(self)
        header = {"op": "call", "id": handle, "args": encoder.encode(list(args)),
                  "kwargs": encoder.encode(kwargs), "rng": encoder.encode(np.random.get_state())}
        return self._request(header, encoder.buffers, writeback=(*args, *kwargs.values()))

    def operate(self, op: str, handle: int, *operands: Any) -> Any:
        """getattr/setattr/getitem/setitem/delitem/len/contains/snapshot on a handle of the other side."""
        encoder = _Encoder(self)
        return self._request({"op": op, "id": handle, "operands": encoder.encode(list(operands))},
                             encoder.buffers)

    # -- answers --------------------------------------------------------------------------------
    def _answer(self, header: dict, buffers: list) -> None:
        encoder = _Encoder(self)
        reply: dict[str, Any] = {}
        try:
            value, writeback = self._perform(header, buffers)
            reply["value"] = encoder.encode(value, live=_is_live_access(header))
            if header.get("op") == "call":
                reply["writeback"] = [[i, encoder.encode(v)] for i, v in writeback]
                reply["rng"] = encoder.encode(np.random.get_state())
        except (ChannelClosed, CallTimeout, KeyboardInterrupt):  # an interrupt ends the session
            raise
        except BaseException as error:  # the other side's code may raise anything: report it
            encoder = _Encoder(self)
            reply = {"error": _describe_exception(error, encoder)}
        self._send(reply, encoder.buffers)

    def limit_blas_threads(self, threads: int | None) -> None:
        """Have the other side's BLAS use at most `threads` threads from now on (None: as before)."""
        self._request({"op": "blas_threads", "threads": threads})

    def _perform(self, header: dict, buffers: list) -> tuple[Any, list]:
        op = header.get("op")
        if op == "blas_threads":
            if not self.trusting:
                raise PermissionError("only the grader may limit the other side's BLAS threads")
            return self._limit_blas(header.get("threads")), []
        if op == "lookup":
            if self.namespace is None or not isinstance(header.get("name"), str):
                raise KeyError(header.get("name"))
            return self.namespace[header["name"]], []
        target = self._objects.get(header.get("id"))
        if target is None:
            raise ProtocolError(f"no object {header.get('id')!r} was shared on this channel")
        if op == "call":
            if not self.trusting and not callable(target):
                raise PermissionError("only the callables the grader passed may be called")
            args = self._decode(header.get("args", []), buffers)
            kwargs = self._decode(header.get("kwargs", {"$": "dict", "k": [], "v": []}), buffers)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ProtocolError("call arguments must be a list and a dict")
            if "rng" in header:
                _set_rng_state(self._decode(header["rng"], buffers))
            before = [_snapshot(v) for v in (*args, *kwargs.values())]
            result = target(*args, **kwargs)
            changed = [(i, v) for i, (v, old) in enumerate(zip((*args, *kwargs.values()), before))
                       if _changed(v, old)]
            return result, changed
        operands = self._decode(header.get("operands", []), buffers)
        if not isinstance(operands, list):
            raise ProtocolError("operands must be a list")
        return _apply(op, target, operands, self.trusting, id(target) in self._live), []

    def _limit_blas(self, threads: Any) -> None:
        from threadpoolctl import threadpool_limits

        if self._blas_limit is not None:
            self._blas_limit.restore_original_limits()
            self._blas_limit = None
        if type(threads) is int and threads > 0:
            self._blas_limit = threadpool_limits(threads, user_api="blas")

    # -- handles --------------------------------------------------------------------------------
    def export(self, value: Any, live: bool) -> int:
        handle = self._ids.get(id(value))
        if handle is None:
            handle = len(self._objects) + 1
            self._objects[handle], self._ids[id(value)] = value, handle
        if live:
            self._live.add(id(value))
        return handle

    def _decode(self, data: Any, buffers: list, depth: int = 0) -> Any:
        return _decode(data, buffers, self, depth)

    # -- frames ---------------------------------------------------------------------------------
    def _send(self, header: dict, buffers: list) -> None:
        text = json.dumps(header).encode()
        try:
            self.sock.sendall(struct.pack("<QI", len(text), len(buffers)) + text
                              + b"".join(struct.pack("<Q", len(b)) for b in buffers))
            for buffer in buffers:
                self.sock.sendall(buffer)
        except OSError as error:
            self.closed = True
            raise ChannelClosed(f"the other side is gone ({error})") from None

    def _receive(self) -> tuple[dict, list]:
        size, count = struct.unpack("<QI", self._read(12))
        if size > MAX_HEADER_BYTES or count > 2**20:
            raise ProtocolError(f"a frame announced {size} header bytes and {count} buffers")
        header = json.loads(self._read(size))
        sizes = struct.unpack(f"<{count}Q", self._read(8 * count)) if count else ()
        if not isinstance(header, dict) or sum(sizes) > MAX_FRAME_BYTES:
            raise ProtocolError("malformed frame")
        return header, [self._read(n) for n in sizes]

    def _read(self, size: int) -> bytearray:
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size:
            if self.deadline is not None:
                remaining = self.deadline - time.monotonic()
                if remaining <= 0 or not select.select([self.sock], [], [], remaining)[0]:
                    raise CallTimeout("the student's code did not answer in time")
            n = self.sock.recv_into(view[got:])
            if n == 0:
                self.closed = True
                raise ChannelClosed("the other side closed the channel (its process may have died)")
            got += n
        return data


class Remote:
    """A handle to an object of the other side: call it, read and set its attributes and items.

    Copying one (`copy.copy`, `copy.deepcopy`) copies the object on the side that owns it and
    returns a handle to the copy; pickling one is refused with a message saying why.
    """

    _FIELDS = ("_endpoint", "_id", "_description")

    def __init__(self, endpoint: Endpoint, handle: int, description: str):
        object.__setattr__(self, "_endpoint", endpoint)
        object.__setattr__(self, "_id", handle)
        object.__setattr__(self, "_description", description)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._endpoint.call(self._id, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in Remote._FIELDS:  # not yet set: a copy being built
            raise AttributeError(name)
        return self._endpoint.operate("getattr", self._id, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._endpoint.operate("setattr", self._id, name, value)

    def __getitem__(self, key: Any) -> Any:
        return self._endpoint.operate("getitem", self._id, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._endpoint.operate("setitem", self._id, key, value)

    def __delitem__(self, key: Any) -> None:
        self._endpoint.operate("delitem", self._id, key)

    def __len__(self) -> int:
        return self._endpoint.operate("len", self._id)

    def __contains__(self, key: Any) -> bool:
        return self._endpoint.operate("contains", self._id, key)

    def __iter__(self):
        return iter(self._endpoint.operate("snapshot", self._id, "keys"))

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"<{self._description} in the student's kernel>"

    def __copy__(self) -> Any:
        return self._endpoint.operate("copy", self._id)

    def __deepcopy__(self, memo: dict) -> Any:
        return self._endpoint.operate("deepcopy", self._id)

    def __reduce_ex__(self, protocol: int):
        raise TypeError(f"cannot pickle {self!r}: it lives in another process (the grader's or the "
                        f"student's); pickle plain values such as its params dict instead")

    def snapshot(self) -> Any:
        """The whole container, by value, in one round trip."""
        return self._endpoint.operate("snapshot", self._id, "value")


class _PlainContainer:
    """What a live view of a dict or list shares: it is an instance of the plain type, copies and
    pickles as a plain dict or list of its current contents, and has no attributes of its own."""

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"'{type(self).__name__}' object attribute {name!r} is read-only")

    def __copy__(self) -> Any:
        return self.snapshot()

    def __deepcopy__(self, memo: dict) -> Any:
        return copy.deepcopy(self.snapshot(), memo)

    def __reduce_ex__(self, protocol: int):
        return type(self.snapshot()), (self.snapshot(),)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __eq__(self, other: Any) -> bool:
        return self.snapshot() == other

    def __ne__(self, other: Any) -> bool:
        return self.snapshot() != other

    __hash__ = None

    def __repr__(self) -> str:
        return repr(self.snapshot())

    def copy(self) -> Any:
        return self.snapshot()


_NOT_EMPTY = object()
"""Kept in a RemoteDict's own (otherwise unused) storage: json's C encoder writes "{}" for a dict
whose storage is empty without asking for its items."""


class RemoteDict(Remote, _PlainContainer, dict):
    """A live view of a dict of the other side; isinstance(view, dict) holds, and `dict(view)`,
    `{**view}`, `.items()`, `json.dumps`, `copy`, `pickle` see its current contents."""

    def __init__(self, endpoint: Endpoint, handle: int, description: str):
        super().__init__(endpoint, handle, description)
        dict.__setitem__(self, _NOT_EMPTY, None)

    __getattr__, __setattr__ = _PlainContainer.__getattr__, _PlainContainer.__setattr__
    __copy__, __deepcopy__ = _PlainContainer.__copy__, _PlainContainer.__deepcopy__
    __reduce_ex__, __repr__ = _PlainContainer.__reduce_ex__, _PlainContainer.__repr__
    __bool__ = _PlainContainer.__bool__
    get, setdefault, pop, popitem = Mapping.get, MutableMapping.setdefault, MutableMapping.pop, MutableMapping.popitem
    update, clear = MutableMapping.update, MutableMapping.clear

    def items(self):
        return self.snapshot().items()

    def values(self):
        return self.snapshot().values()

    def keys(self):
        return self.snapshot().keys()

    def __reversed__(self):
        return reversed(self.snapshot())

    def __or__(self, other: Any) -> Any:
        return self.snapshot() | other

    def __ror__(self, other: Any) -> Any:
        return other | self.snapshot()

    def __ior__(self, other: Any) -> RemoteDict:
        self.update(other)
        return self


class RemoteList(Remote, _PlainContainer, list):
    """A live view of a list of the other side; isinstance(view, list) holds, and `list(view)`,
    iteration, `np.asarray`, `json.dumps`, `copy`, `pickle` see its current contents."""

    __getattr__, __setattr__ = _PlainContainer.__getattr__, _PlainContainer.__setattr__
    __copy__, __deepcopy__ = _PlainContainer.__copy__, _PlainContainer.__deepcopy__
    __reduce_ex__, __repr__ = _PlainContainer.__reduce_ex__, _PlainContainer.__repr__
    __bool__ = _PlainContainer.__bool__
    append, extend, pop, remove = (MutableSequence.append, MutableSequence.extend, MutableSequence.pop,
                                   MutableSequence.remove)
    index, count, reverse, clear = (MutableSequence.index, MutableSequence.count, MutableSequence.reverse,
                                    MutableSequence.clear)
    __iadd__, __reversed__ = MutableSequence.__iadd__, MutableSequence.__reversed__

    def __iter__(self):
        return iter(self.snapshot())

    def __contains__(self, value: Any) -> bool:
        return value in self.snapshot()

    def insert(self, index: int, value: Any) -> None:
        self._endpoint.operate("insert", self._id, index, value)

    def sort(self, *, key: Callable | None = None, reverse: bool = False) -> None:
        self[:] = sorted(self.snapshot(), key=key, reverse=reverse)

    def __add__(self, other: Any) -> list:
        return self.snapshot() + other

    def __radd__(self, other: Any) -> list:
        return other + self.snapshot()

    def __mul__(self, count: int) -> list:
        return self.snapshot() * count

    __rmul__ = __mul__

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.snapshot(), dtype=dtype)


def _is_live_access(header: dict) -> bool:
    """Whether a dict or list answering this request is sent as a live view: items and public
    attributes are; dunder attributes (`__annotations__`, `__dict__`) are copied."""
    if header.get("op") == "getitem":
        return True
    operands = header.get("operands")
    return (header.get("op") == "getattr" and isinstance(operands, dict) and operands.get("$") == "list"
            and bool(operands.get("v")) and isinstance(operands["v"][0], str) and not operands["v"][0].startswith("__"))


def _apply(op: str, target: Any, operands: list, trusting: bool, live: bool) -> Any:
    """Perform one operation on a shared object; the grader's side allows only its REMOTE_API
    (and copies of an object that has one)."""
    if not trusting and not live:
        api = getattr(type(target), "REMOTE_API", ())
        name = operands[0] if op in ("getattr", "setattr") and operands else None
        if not (op in ("getattr", "setattr") and name in api or op in ("copy", "deepcopy") and api):
            raise PermissionError(f"the grader's {type(target).__name__} does not allow {op} {name or ''}")
    if op == "copy":
        return copy.copy(target)
    if op == "deepcopy":
        return copy.deepcopy(target)
    if op == "getattr":
        return getattr(target, _name(operands[0]))
    if op == "setattr":
        setattr(target, _name(operands[0]), operands[1])
        return None
    if op == "getitem":
        return target[operands[0]]
    if op == "setitem":
        target[operands[0]] = operands[1]
        return None
    if op == "delitem":
        del target[operands[0]]
        return None
    if op == "insert":
        target.insert(operands[0], operands[1])
        return None
    if op == "len":
        return len(target)
    if op == "contains":
        return operands[0] in target
    if op == "snapshot":
        return list(target) if operands == ["keys"] else (dict(target) if isinstance(target, dict) else list(target))
    raise ProtocolError(f"unknown operation {op!r}")


def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ProtocolError("attribute names are strings")
    return value


class _Encoder:
    """Turns values into JSON-able data plus a list of raw buffers (see the module docstring)."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.buffers: list = []

    def encode(self, value: Any, live: bool = False, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise ValueError("value nested too deeply to send (a container that contains itself?)")
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        if isinstance(value, Remote) and value._endpoint is self.endpoint:
            return {"$": "ref", "id": value._id}
        if live and kind in (dict, list):
            return self._handle(value, "dict" if kind is dict else "list", live=True)
        if isinstance(value, np.ndarray) and value.dtype.kind in ARRAY_KINDS:
            return self._array(value)
        if isinstance(value, np.generic) and value.dtype.kind in ARRAY_KINDS:
            return {**self._array(np.asarray(value)), "scalar": True}
        if kind in (list, tuple, set, frozenset) or isinstance(value, type({}.keys())) \
                or isinstance(value, (type({}.values()), type({}.items()))):
            items = [self.encode(v, live, depth + 1) for v in value]
            tag = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}.get(kind, "list")
            return {"$": tag, "v": items}
        if kind is dict:
            return {"$": "dict", "k": [self.encode(k, False, depth + 1) for k in value],
                    "v": [self.encode(v, live, depth + 1) for v in value.values()]}
        if kind is complex:
            return {"$": "complex", "v": [value.real, value.imag]}
        if kind is bytes:
            self.buffers.append(value)
            return {"$": "bytes", "b": len(self.buffers) - 1}
        if kind is slice:
            return {"$": "slice", "v": [self.encode(v, False, depth + 1) for v in (value.start, value.stop, value.step)]}
        if value is Ellipsis:
            return {"$": "..."}
        if isinstance(value, np.dtype) and value.kind in ARRAY_KINDS:
            return {"$": "dtype", "v": value.str}
        if isinstance(value, type) and value in _TYPE_NAMES:
            return {"$": "type", "v": _TYPE_NAMES[value]}
        return self._handle(value, "callable" if callable(value) else "object", live=False)

    def _array(self, value: np.ndarray) -> dict:
        value = value if value.flags.c_contiguous else value.copy(order="C")
        self.buffers.append(memoryview(value).cast("B") if value.size else b"")
        return {"$": "array", "b": len(self.buffers) - 1, "dtype": value.dtype.str, "shape": list(value.shape)}

    def _handle(self, value: Any, kind: str, live: bool) -> dict:
        name = getattr(value, "__qualname__", None) or type(value).__name__
        description = f"{kind} {name}" if kind in ("callable", "object") else f"{kind}"
        return {"$": "handle", "id": self.endpoint.export(value, live), "kind": kind,
                "description": str(description)[:200]}


def _decode(data: Any, buffers: list, endpoint: Endpoint, depth: int) -> Any:
    """The value `data` describes; raises ProtocolError on anything unexpected."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if data is None or type(data) in (bool, int, float, str):
        return data
    if not isinstance(data, dict):
        raise ProtocolError(f"unexpected {type(data).__name__} in a frame")
    tag = data.get("$")

    def each(key: str) -> list:
        items = data.get(key)
        if not isinstance(items, list):
            raise ProtocolError(f"{tag}: {key} must be a list")
        return [_decode(v, buffers, endpoint, depth + 1) for v in items]

    if tag == "list":
        return each("v")
    if tag in ("tuple", "set", "frozenset"):
        return {"tuple": tuple, "set": set, "frozenset": frozenset}[tag](each("v"))
    if tag == "dict":
        keys, values = each("k"), each("v")
        if len(keys) != len(values):
            raise ProtocolError("dict keys and values differ in number")
        return dict(zip(keys, values))
    if tag == "array":
        return _decode_array(data, buffers)
    if tag == "complex":
        real, imag = data.get("v", [None, None])
        return complex(float(real), float(imag))
    if tag == "bytes":
        return bytes(_buffer(data, buffers))
    if tag == "slice":
        return slice(*each("v"))
    if tag == "...":
        return Ellipsis
    if tag == "dtype":
        dtype = np.dtype(str(data.get("v")))
        if dtype.kind not in ARRAY_KINDS or dtype.fields:
            raise ProtocolError(f"dtype {dtype} cannot cross")
        return dtype
    if tag == "type":
        if data.get("v") not in _TYPES:
            raise ProtocolError(f"unknown type {data.get('v')!r}")
        return _TYPES[data["v"]]
    if tag == "ref":
        if data.get("id") not in endpoint._objects:
            raise ProtocolError(f"no object {data.get('id')!r} was shared on this channel")
        return endpoint._objects[data["id"]]
    if tag == "handle":
        kind = data.get("kind")
        proxy = {"dict": RemoteDict, "list": RemoteList}.get(kind, Remote)
        if not isinstance(data.get("id"), int):
            raise ProtocolError("handle ids are integers")
        return proxy(endpoint, data["id"], str(data.get("description", kind))[:200])
    raise ProtocolError(f"unknown value tag {tag!r}")


def _buffer(data: dict, buffers: list) -> bytearray:
    index = data.get("b")
    if not isinstance(index, int) or not 0 <= index < len(buffers):
        raise ProtocolError("buffer index out of range")
    return buffers[index]


def _decode_array(data: dict, buffers: list) -> Any:
    dtype = np.dtype(str(data.get("dtype")))
    shape = data.get("shape")
    if dtype.kind not in ARRAY_KINDS or dtype.fields or not isinstance(shape, list) \
            or not all(type(n) is int and n >= 0 for n in shape):
        raise ProtocolError(f"array of dtype {dtype} and shape {shape!r} cannot cross")
    buffer = _buffer(data, buffers)
    if len(buffer) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ProtocolError(f"array buffer of {len(buffer)} bytes does not hold shape {shape} of {dtype}")
    array = np.frombuffer(buffer, dtype=dtype).reshape(shape) if len(buffer) else np.zeros(shape, dtype)
    return array[()] if data.get("scalar") else array


def _describe_exception(error: BaseException, encoder: _Encoder) -> dict:
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    try:
        args = encoder.encode(list(error.args))
    except Exception:
        args = [str(error)]
    return {"type": name, "args": args, "message": str(error)[:10_000]}


def _rebuild_exception(description: Any, decode: Callable) -> BaseException:
    if not isinstance(description, dict):
        return ProtocolError("malformed error report")
    name, message = str(description.get("type")), str(description.get("message"))
    kind = _EXCEPTIONS.get(name)
    if kind is None:
        return RemoteError(name, message)
    try:
        args = decode(description.get("args", []))
        return kind(*args) if isinstance(args, list) else kind(message)
    except Exception:
        return kind(message)


def _snapshot(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else None


def _changed(value: Any, before: Any) -> bool:
    """Whether an argument must be written back: dicts and lists always, arrays when changed."""
    if isinstance(value, (dict, list)):
        return True
    return isinstance(value, np.ndarray) and not (
        before is not None and before.shape == value.shape and before.dtype == value.dtype
        and np.array_equal(before, value, equal_nan=before.dtype.kind in "fc"))


def _write_back(originals: tuple, position: Any, value: Any) -> None:
    """Put the callee's in-place changes of argument `position` into the caller's object."""
    if not isinstance(position, int) or not 0 <= position < len(originals):
        raise ProtocolError("write-back of an argument that was not sent")
    original = originals[position]
    if isinstance(original, Remote):  # a view of the callee's own object: already changed there
        return
    if isinstance(original, np.ndarray) and isinstance(value, np.ndarray) and original.shape == value.shape \
            and original.flags.writeable:
        original[...] = value
    elif isinstance(original, dict) and isinstance(value, dict):
        original.clear()
        original.update(value)
    elif isinstance(original, list) and isinstance(value, list):
        original[:] = value


def _set_rng_state(state: Any) -> None:
    """Adopt the other side's global numpy RNG state (ignored when it is not a valid state)."""
    try:
        np.random.set_state(state)
    except Exception:
        pass


def process_of(value: Any) -> int | None:
    """The id of the process in which `value` runs: the other side's for a handle whose channel is
    a Unix socket (SO_PEERCRED, Linux), else None (a local value, or the system does not say)."""
    if not isinstance(value, Remote):
        return None
    sock = value._endpoint.sock
    try:
        credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    return struct.unpack("3i", credentials)[0] or None


@contextlib.contextmanager
def one_blas_thread(value: Any):
    """While the block runs, BLAS uses one thread in the process where `value` runs (the other
    side's for a handle, this one's otherwise): oversubscribed BLAS threads on a busy machine spin,
    which costs a matrix product many times its time and CPU time."""
    if isinstance(value, Remote):
        value._endpoint.limit_blas_threads(1)
        try:
            yield
        finally:
            value._endpoint.limit_blas_threads(None)
    else:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            yield


def serve(socket_path: str, namespace: dict | None = None) -> None:
    """Student side: connect to the grader at `socket_path` and answer until it is done.

    Runs inside the student's kernel while a graded cell's hidden tests run in the grader;
    `namespace` defaults to the notebook's globals.
    """
    if namespace is None:
        from IPython import get_ipython

        shell = get_ipython()
        namespace = shell.user_ns if shell is not None else vars(__import__("__main__"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(socket_path)
    endpoint = Endpoint(sock, namespace=namespace, trusting=True)
    try:
        endpoint.serve()
    except ChannelClosed:
        pass
    finally:
        sock.close()
