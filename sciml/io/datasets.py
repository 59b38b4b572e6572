"""Self-describing HDF5 data sets: atomic writes, resumable chunked generation, validated reads.

One file holds one data set. Arrays are named by meaning (``a`` for an input coefficient or
initial state, ``u`` for a solution, ``f`` for a source) with shape ``(samples, *grid)``,
stored float32, chunked and gzip-compressed. Coordinates shared by every sample (``x``,
``y``, ``t``) live in the group ``coords``. File attributes say how to regenerate the file::

    format          "sciml-dataset"                     (what reads it)
    format_version  1                                   (how it is laid out)
    generator       e.g. "darcy"                        (what made it)
    parameters      JSON object of every generator parameter
    seed            the root seed; sample i uses SeedSequence(seed, spawn_key=(i,))
    samples         number of samples
    fields          JSON object {name: per-sample grid shape}
    splits          JSON object {name: [start, stop]}, e.g. train / test sample ranges
    sciml_version   package version that wrote it
    created         UTC creation time, ISO 8601

Writes never leave a half-written file under the final name: :func:`write_dataset` writes a
temporary file in the same directory and publishes it with :func:`os.replace`.
:class:`ChunkedWriter` serves long runs: each finished chunk of samples is published
atomically as its own shard in ``<out>.partial/``, so a run killed at any moment keeps every
finished chunk and redoes only unfinished ones (no sample is lost or written twice); when
all chunks exist it assembles the final file atomically and removes the shards.

Reading validates first: :func:`read_info` raises :class:`~sciml.errors.DataFileError`
naming what is wrong for a truncated, foreign or mis-shaped file.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import h5py
import numpy as np

from .atomic import atomic_write
from ..errors import DataFileError

FORMAT_NAME = "sciml-dataset"
FORMAT_VERSION = 1
COORDS_GROUP = "coords"
#: target bytes of one HDF5 chunk (HDF5 advises 10 KiB to 1 MiB)
_CHUNK_BYTES = 1 << 20
_REQUIRED_ATTRS = ("format", "format_version", "generator", "parameters", "seed", "samples",
                   "fields", "splits", "sciml_version", "created")
_MANIFEST = "manifest.json"
#: the array of every shard that names the run that wrote it
_RUN_ID_KEY = "__run_id__"

PathLike = str | os.PathLike


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that defines a data set except its sample values.

    Parameters
    ----------
    generator
        Name of what produced the samples, e.g. ``"darcy"``.
    parameters
        Every parameter of the generator (JSON-serialisable), so the file says how to
        regenerate it.
    seed
        Root seed of the run.
    samples
        Number of samples.
    fields
        Per-sample grid shape of every array, e.g. ``{"a": (85, 85), "u": (85, 85)}``.
    coords
        Coordinate arrays shared by all samples, e.g. ``{"x": np.linspace(0, 1, 85)}``.
    splits
        Named sample ranges ``{name: (start, stop)}``, e.g. ``{"train": (0, 900),
        "test": (900, 1000)}``; ``"all"`` is implied.

    Raises
    ------
    DataFileError
        Inconsistent values (no fields, bad names, a split outside ``[0, samples]``,
        parameters that JSON cannot store).
    """

    generator: str
    parameters: Mapping[str, Any]
    seed: int
    samples: int
    fields: Mapping[str, tuple[int, ...]]
    coords: Mapping[str, np.ndarray] = field(default_factory=dict)
    splits: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fields = {str(k): tuple(int(n) for n in v) for k, v in self.fields.items()}
        splits = {str(k): (int(a), int(b)) for k, (a, b) in self.splits.items()}
        coords = {str(k): np.asarray(v) for k, v in self.coords.items()}
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "splits", splits)
        object.__setattr__(self, "coords", coords)
        object.__setattr__(self, "parameters", dict(self.parameters))
        object.__setattr__(self, "samples", int(self.samples))
        object.__setattr__(self, "seed", int(self.seed))
        if int(self.samples) < 1:
            raise DataFileError(f"a data set needs at least one sample, got {self.samples}")
        if not fields:
            raise DataFileError("a data set needs at least one field (e.g. 'a', 'u')")
        for name in [*fields, *coords]:
            if not name or "/" in name or name == COORDS_GROUP:
                raise DataFileError(f"invalid array name {name!r}: use a plain name such as "
                                    f"'a' or 'u' (no '/', not {COORDS_GROUP!r})")
        if set(fields) & set(coords):
            raise DataFileError(f"names used both as field and coordinate: "
                                f"{sorted(set(fields) & set(coords))}")
        for name, (start, stop) in splits.items():
            if not 0 <= start <= stop <= self.samples:
                raise DataFileError(f"split {name!r} = [{start}, {stop}) is outside the "
                                    f"{self.samples} samples")
        try:
            json.dumps(self.parameters)
        except TypeError as exc:
            raise DataFileError(f"generator parameters must be JSON-serialisable: {exc}") from exc

    def manifest(self) -> dict[str, Any]:
        """The JSON-able identity of the data set (everything but coordinate values)."""
        return {"generator": self.generator, "parameters": self.parameters,
                "seed": int(self.seed), "samples": int(self.samples),
                "fields": {k: list(v) for k, v in self.fields.items()},
                "coords": sorted(self.coords),
                "splits": {k: list(v) for k, v in self.splits.items()}}

    def split_range(self, split: str) -> tuple[int, int]:
        """``(start, stop)`` of a named split; ``"all"`` is every sample."""
        if split == "all":
            return 0, int(self.samples)
        if split not in self.splits:
            known = ", ".join(["all", *self.splits])
            raise DataFileError(f"the data set has no split {split!r}; its splits: {known}")
        return self.splits[split]


@dataclass(frozen=True)
class DatasetInfo:
    """A validated data set's description: its :class:`DatasetSpec` plus provenance."""

    path: Path
    spec: DatasetSpec
    sciml_version: str
    created: str
    format_version: int


# -- writing ------------------------------------------------------------------------------------
def write_dataset(path: PathLike, spec: DatasetSpec,
                  arrays: Mapping[str, np.ndarray]) -> Path:
    """Write a complete data set atomically.

    Parameters
    ----------
    path
        Destination; its directory must exist. An existing file is replaced only once the new
        one is complete.
    spec
        What the data set is (generator, parameters, seed, fields, ...).
    arrays
        One array per field of ``spec``, shape ``(spec.samples, *grid)``; stored as float32.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DataFileError
        Missing, extra or mis-shaped arrays, or non-finite values.
    """
    _check_arrays(spec, arrays, spec.samples, "data set")
    return _publish(path, spec, lambda _block, name: arrays[name], [(0, spec.samples)])


def _check_arrays(spec: DatasetSpec, arrays: Mapping[str, np.ndarray], count: int,
                  what: str) -> None:
    missing = sorted(set(spec.fields) - set(arrays))
    extra = sorted(set(arrays) - set(spec.fields))
    if missing or extra:
        raise DataFileError(f"{what}: arrays must be exactly the fields {sorted(spec.fields)}; "
                            f"missing {missing}, unexpected {extra}")
    for name, grid in spec.fields.items():
        shape = np.shape(arrays[name])
        if shape != (count, *grid):
            raise DataFileError(f"{what}: field {name!r} has shape {shape}, expected "
                                f"{(count, *grid)} (samples, *grid)")
        if not np.all(np.isfinite(arrays[name])):
            raise DataFileError(f"{what}: field {name!r} contains NaN or Inf values")


def _publish(path: PathLike, spec: DatasetSpec,
             read_block: Callable[[int, str], np.ndarray],
             blocks: list[tuple[int, int]]) -> Path:
    """Write ``spec``'s file from blocks of samples to a temporary file, then rename it.

    ``read_block(block_index, name)`` returns field ``name`` of the samples
    ``blocks[block_index]``; blocks cover ``0..samples`` in order.
    """
    from .. import __version__  # noqa: PLC0415 - sciml/__init__ imports this module's siblings

    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with h5py.File(tmp, "w") as f:
            attrs = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION,
                     "generator": spec.generator, "parameters": json.dumps(spec.parameters),
                     "seed": int(spec.seed), "samples": int(spec.samples),
                     "fields": json.dumps({k: list(v) for k, v in spec.fields.items()}),
                     "splits": json.dumps({k: list(v) for k, v in spec.splits.items()}),
                     "sciml_version": __version__,
                     "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            f.attrs.update(attrs)
            for name, grid in spec.fields.items():
                per_sample = 4 * max(1, math.prod(grid))
                rows = int(min(spec.samples, max(1, _CHUNK_BYTES // per_sample)))
                f.create_dataset(name, shape=(spec.samples, *grid), dtype=np.float32,
                                 chunks=(rows, *grid), compression="gzip",
                                 compression_opts=4, shuffle=True)
            group = f.create_group(COORDS_GROUP)
            for name, values in spec.coords.items():
                group.create_dataset(name, data=values)
            for index, (start, stop) in enumerate(blocks):
                for name in spec.fields:
                    f[name][start:stop] = np.asarray(read_block(index, name), np.float32)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temporaries(folder: PathLike, name: str = "*") -> list[Path]:
    """Delete the temporary files (``.<name>.*.tmp``) atomic writes left in ``folder``.

    Call it only while holding the output's :class:`RunLock`: then no live writer owns
    them, they are the leftovers of a killed run (e.g. killed during publication).
    """
    stale = list(Path(folder).glob(f".{name}.*.tmp"))
    for leftover in stale:
        leftover.unlink(missing_ok=True)
    return stale


class RunLock:
    """An exclusive ``fcntl.flock`` on a lock file, naming its holder.

    The holder's pid, host, start time and settings are written into the file, so a run that
    finds the lock taken can say who holds it. The kernel drops the lock when the holder
    exits, however it dies, so a killed run never blocks the next one (it leaves the file,
    which the next holder takes over; a clean :meth:`release` removes it).

    Raises
    ------
    DataFileError
        Another live process holds the lock.
    """

    def __init__(self, path: PathLike, settings: Mapping[str, Any],
                 what: str = "datagen run") -> None:
        self.path = Path(path)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise DataFileError(f"another {what} is writing {self.path.with_suffix('')}"
                                    f": {self._holder()}; wait for it to finish or stop it "
                                    "(it is resumable)") from None
            except BaseException:
                os.close(fd)
                raise
            if os.path.exists(self.path) and os.stat(self.path).st_ino == os.fstat(fd).st_ino:
                break
            os.close(fd)  # the file was removed by its previous holder after we opened it
        self._fd: int | None = fd
        holder = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "settings": dict(settings)}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(holder).encode())
        os.fsync(fd)

    def _holder(self) -> str:
        try:
            holder = json.loads(self.path.read_text())
            settings = holder.get("settings", {})
            shown = {k: v for k, v in settings.items() if k != "parameters"}
            parameters = (f" and parameters {settings['parameters']}"
                          if "parameters" in settings else "")
            return (f"pid {holder['pid']} on host {holder['host']}, started "
                    f"{holder['started']}, settings {shown}{parameters}")
        except (OSError, ValueError, KeyError, AttributeError):
            return "a process whose details are unreadable"

    def release(self) -> None:
        """Remove the lock file and drop the lock (idempotent)."""
        if self._fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = None


class ChunkedWriter:
    """Build a data set chunk by chunk, surviving a kill at any moment; publish it atomically.

    The samples ``0..samples`` are cut into chunks of ``chunk_size``. Each finished chunk
    goes to ``<path>.partial/chunk-NNNNNN.npz`` through a temporary file and
    :func:`os.replace`, so a shard exists whole or not at all. A new writer on the same
    path finds the shards of an interrupted run with the same :meth:`DatasetSpec.manifest`
    and chunk size and reports them done (:attr:`pending` lists the rest); a run with
    different settings is refused rather than mixed in. :meth:`finalize` assembles the
    shards into ``path`` atomically and deletes them.

    One run at a time: the writer holds an exclusive :class:`RunLock` on ``<path>.lock``
    from construction to :meth:`close` (use it as a context manager), so a second run on the
    same output fails at once naming the running one, and ``overwrite`` never deletes the
    shards of a live run. The manifest records a run id, every shard carries it, and
    :meth:`write_chunk` and :meth:`finalize` refuse shards or a folder of another run.
    Temporary files left by a killed run (``.<name>.*.tmp``) are removed when the next run
    takes the lock.

    Parameters
    ----------
    path
        Final data set path.
    spec
        The data set's description.
    chunk_size
        Samples per chunk (the unit of work and of resumption).
    overwrite
        Replace an existing final file, and discard shards of an interrupted run.

    Raises
    ------
    FileExistsError
        ``path`` exists and ``overwrite`` is false.
    DataFileError
        Shards of an interrupted run with different settings exist and ``overwrite`` is false,
        or another live run holds the output's lock.
    """

    def __init__(self, path: PathLike, spec: DatasetSpec, chunk_size: int, *,
                 overwrite: bool = False) -> None:
        self.path = Path(path)
        self.spec = spec
        self.chunk_size = int(chunk_size)
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        self.n_chunks = -(-spec.samples // self.chunk_size)
        self.parts = self.path.with_name(self.path.name + ".partial")
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} exists; pass overwrite=True (CLI: --overwrite) "
                                  "to replace it")
        # through JSON and back, so it compares equal to the copy read from disk
        manifest = json.loads(json.dumps({**spec.manifest(), "chunk_size": self.chunk_size,
                                          "format_version": FORMAT_VERSION}))
        self._lock = RunLock(self.path.with_name(self.path.name + ".lock"), manifest)
        try:
            self._start(manifest, overwrite)
        except BaseException:
            self._lock.release()
            raise

    def _start(self, manifest: dict[str, Any], overwrite: bool) -> None:
        """With the lock held: discard or check an interrupted run, then write the manifest."""
        remove_stale_temporaries(self.path.parent, self.path.name)
        if self.parts.exists():
            if overwrite:
                shutil.rmtree(self.parts)
            else:
                self.run_id = self._check_manifest(manifest)
        if not self.parts.exists():
            self.run_id = uuid.uuid4().hex
        self.parts.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.parts)
        manifest_path = self.parts / _MANIFEST
        if not manifest_path.exists():
            text = json.dumps({**manifest, "run_id": self.run_id}, indent=1).encode()
            atomic_write(manifest_path, lambda fh: fh.write(text))

    def discard(self) -> None:
        """Delete :attr:`parts` (this run's shards and manifest) while holding the lock."""
        shutil.rmtree(self.parts, ignore_errors=True)

    def close(self) -> None:
        """Release the run's lock (the shards stay for a later resumption)."""
        self._lock.release()

    def __enter__(self) -> "ChunkedWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_manifest(self, manifest: dict[str, Any]) -> str:
        """The run id of the interrupted run in :attr:`parts`, if its settings are ours."""
        try:
            found = json.loads((self.parts / _MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise DataFileError(
                f"{self.parts} is not a readable interrupted run ({exc}); delete it or pass "
                "overwrite=True (CLI: --overwrite)") from exc
        run_id = found.pop("run_id", None)
        if found != manifest:
            differing = sorted(k for k in {**found, **manifest}
                               if found.get(k) != manifest.get(k))
            raise DataFileError(
                f"{self.parts} holds an interrupted run with different settings "
                f"(differing: {', '.join(differing)}); rerun with the same settings to resume "
                "it, or pass overwrite=True (CLI: --overwrite) to start again")
        if not isinstance(run_id, str):
            raise DataFileError(f"{self.parts} was left by an older sciml without a run id; "
                                "pass overwrite=True (CLI: --overwrite) to start again")
        return run_id

    def _check_run(self) -> None:
        """Refuse to go on if :attr:`parts` no longer holds this run (a foreign writer)."""
        try:
            found = json.loads((self.parts / _MANIFEST).read_text()).get("run_id")
        except (OSError, ValueError):
            found = None
        if found != self.run_id:
            raise DataFileError(f"{self.parts} no longer belongs to this run (run id "
                                f"{self.run_id}, found {found}): another process replaced "
                                "it; nothing is published")

    def chunk_range(self, index: int) -> tuple[int, int]:
        """The samples ``[start, stop)`` of chunk ``index``."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"chunk {index} is outside 0..{self.n_chunks - 1}")
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.spec.samples)

    def _shard(self, index: int) -> Path:
        return self.parts / f"chunk-{index:06d}.npz"

    @property
    def pending(self) -> list[int]:
        """Indices of chunks not yet written, in order."""
        return [i for i in range(self.n_chunks) if not self._shard(i).exists()]

    def write_chunk(self, index: int, arrays: Mapping[str, np.ndarray]) -> None:
        """Publish chunk ``index`` (arrays of shape ``(chunk samples, *grid)``) atomically."""
        start, stop = self.chunk_range(index)
        _check_arrays(self.spec, arrays, stop - start, f"chunk {index}")
        self._check_run()
        data = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        data[_RUN_ID_KEY] = np.array(self.run_id)
        atomic_write(self._shard(index), lambda fh: np.savez(fh, **data))

    def finalize(self) -> Path:
        """Assemble every chunk into the final file atomically, then delete the shards.

        Raises
        ------
        DataFileError
            Some chunks are still missing, or a shard or the manifest belongs to another run.
        """
        missing = self.pending
        if missing:
            raise DataFileError(f"cannot finalize {self.path}: {len(missing)} of "
                                f"{self.n_chunks} chunks are missing (first: {missing[0]})")
        self._check_run()
        blocks = [self.chunk_range(i) for i in range(self.n_chunks)]

        def read_block(index: int, name: str) -> np.ndarray:
            with np.load(self._shard(index)) as shard:
                found = str(shard[_RUN_ID_KEY]) if _RUN_ID_KEY in shard.files else None
                if found != self.run_id:
                    raise DataFileError(
                        f"{self._shard(index)} was written by run {found}, not by this run "
                        f"({self.run_id}); nothing is published: pass overwrite=True (CLI: "
                        "--overwrite) to start again")
                return shard[name]

        _publish(self.path, self.spec, read_block, blocks)
        shutil.rmtree(self.parts)
        return self.path


# -- reading ------------------------------------------------------------------------------------
def _open(path: PathLike) -> h5py.File:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no data set at {path}")
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        if "truncated file" in str(exc):
            raise DataFileError(
                f"{path} is truncated: it ends before the size its HDF5 header records (an "
                f"interrupted copy or download?). HDF5 says: {exc}") from exc
        raise DataFileError(f"{path} is not a readable HDF5 file. HDF5 says: {exc}") from exc


#: what each JSON attribute must hold, for the error message
_JSON_ATTRS = {"fields": "{name: per-sample grid shape}, e.g. {\"a\": [85, 85]}",
               "splits": "{name: [start, stop]}, e.g. {\"train\": [0, 900]}",
               "parameters": "{parameter: value}"}


def _json_attr(path: Path, attrs: Any, name: str) -> Any:
    """Attribute ``name`` parsed as JSON; it must be an object of :data:`_JSON_ATTRS` form."""
    try:
        value = json.loads(attrs[name])
    except (TypeError, ValueError) as exc:
        raise DataFileError(f"{path}: attribute {name!r} is not valid JSON "
                            f"({attrs[name]!r})") from exc
    expected = _JSON_ATTRS[name]
    if not isinstance(value, dict):
        raise DataFileError(f"{path}: attribute {name!r} is a JSON {type(value).__name__} "
                            f"({attrs[name]!r}); expected a JSON object {expected}")
    if name == "fields" and not all(isinstance(g, list) and all(isinstance(n, int) for n in g)
                                    for g in value.values()):
        raise DataFileError(f"{path}: attribute 'fields' ({attrs[name]!r}) must map each "
                            f"field to a list of integers: {expected}")
    if name == "splits" and not all(isinstance(r, list) and len(r) == 2
                                    and all(isinstance(n, int) for n in r)
                                    for r in value.values()):
        raise DataFileError(f"{path}: attribute 'splits' ({attrs[name]!r}) must map each "
                            f"split to [start, stop]: {expected}")
    return value


def _validate(path: Path, f: h5py.File) -> DatasetInfo:
    attrs = f.attrs
    if attrs.get("format") != FORMAT_NAME:
        raise DataFileError(
            f"{path} is not a sciml data set: its 'format' attribute is "
            f"{attrs.get('format')!r}, expected {FORMAT_NAME!r}. It holds "
            f"{sorted(f.keys()) or 'no arrays'}; sciml reads files written by sciml.io.datasets "
            "(for example by `sciml datagen`)")
    missing = [a for a in _REQUIRED_ATTRS if a not in attrs]
    if missing:
        raise DataFileError(f"{path}: sciml data set without the attributes {missing}; "
                            "the file is damaged or was not written by sciml.io.datasets")
    version = int(attrs["format_version"])
    if version > FORMAT_VERSION:
        raise DataFileError(f"{path} has format version {version}; this sciml reads versions "
                            f"up to {FORMAT_VERSION} (upgrade sciml)")
    samples = int(attrs["samples"])
    fields = _json_attr(path, attrs, "fields")
    for name, grid in fields.items():
        if name not in f or not isinstance(f[name], h5py.Dataset):
            raise DataFileError(f"{path}: field {name!r} is declared but missing; the file "
                                f"holds {sorted(f.keys())}")
        expected = (samples, *grid)
        if f[name].shape != expected:
            raise DataFileError(f"{path}: field {name!r} has shape {f[name].shape}, expected "
                                f"{expected} (samples, *grid)")
        if f[name].dtype != np.float32:
            raise DataFileError(f"{path}: field {name!r} has dtype {f[name].dtype}, expected "
                                "float32")
    coords: dict[str, np.ndarray] = {}
    if COORDS_GROUP in f:
        try:
            coords = {k: v[...] for k, v in f[COORDS_GROUP].items()}
        except OSError as exc:
            raise DataFileError(f"{path}: coordinates unreadable ({exc})") from exc
    spec = DatasetSpec(generator=str(attrs["generator"]),
                       parameters=_json_attr(path, attrs, "parameters"),
                       seed=int(attrs["seed"]), samples=samples, fields=fields,
                       coords=coords, splits=_json_attr(path, attrs, "splits"))
    return DatasetInfo(path=path, spec=spec, sciml_version=str(attrs["sciml_version"]),
                       created=str(attrs["created"]), format_version=version)


def read_info(path: PathLike) -> DatasetInfo:
    """Validate a data set and return its description (no sample values are read).

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    DataFileError
        The file is truncated or not HDF5, is not a sciml data set (foreign), lacks
        attributes, or has a field whose shape or dtype differs from what it declares.
    """
    with _open(path) as f:
        return _validate(Path(path), f)


def read_arrays(path: PathLike, names: list[str] | None = None, *, start: int = 0,
                stop: int | None = None, stride: int = 1) -> dict[str, np.ndarray]:
    """Read fields of samples ``start:stop``, every ``stride``-th grid point on each axis.

    Parameters
    ----------
    path
        A sciml data set.
    names
        Fields to read; all by default.
    start, stop
        Sample range (``stop`` defaults to the number of samples).
    stride
        Subsampling of every grid axis, like FNO's ``r`` (``u[:, ::r, ::r]``).

    Returns
    -------
    dict
        ``{name: float32 array (stop - start, *grid[::stride])}``.

    Raises
    ------
    DataFileError
        As :func:`read_info`, for an unknown field name, a bad range, or unreadable data.
    """
    path = Path(path)
    with _open(path) as f:
        info = _validate(path, f)
        fields = info.spec.fields
        names = list(fields) if names is None else list(names)
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise DataFileError(f"{path}: no field {unknown}; its fields are {sorted(fields)}")
        stop = info.spec.samples if stop is None else int(stop)
        if not 0 <= start <= stop <= info.spec.samples:
            raise DataFileError(f"{path}: samples [{start}, {stop}) are outside the "
                                f"{info.spec.samples} samples")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        out = {}
        for name in names:
            index = (slice(start, stop), *([slice(None, None, stride)] * len(fields[name])))
            try:
                out[name] = f[name][index]
            except OSError as exc:
                raise DataFileError(f"{path}: field {name!r} is unreadable; the file is "
                                    f"damaged ({exc})") from exc
        return out

