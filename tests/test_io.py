"""sciml.io.datasets: round trips, provenance attributes, atomic writes, clear rejection of bad files."""

import json
from datetime import datetime, timedelta, timezone

import h5py
import numpy as np
import pytest

import sciml
from sciml.io import datasets as io
from sciml.errors import DataFileError


@pytest.fixture
def spec():
    return io.DatasetSpec(generator="test", parameters={"nu": 0.1, "family": "smooth"},
                          seed=42, samples=6, fields={"a": (4, 5), "u": (4, 5)},
                          coords={"x": np.linspace(0, 1, 4)}, splits={"train": (0, 5),
                                                                       "test": (5, 6)})


@pytest.fixture
def arrays():
    rng = np.random.default_rng(0)
    return {"a": rng.standard_normal((6, 4, 5)), "u": rng.standard_normal((6, 4, 5))}


@pytest.fixture
def written(tmp_path, spec, arrays):
    return io.write_dataset(tmp_path / "d.h5", spec, arrays)


def test_round_trip_returns_float32_arrays_coordinates_and_splits(written, arrays, spec):
    back = io.read_arrays(written)
    for name in arrays:
        assert back[name].dtype == np.float32
        np.testing.assert_array_equal(back[name], arrays[name].astype(np.float32))
    info = io.read_info(written)
    np.testing.assert_array_equal(info.spec.coords["x"], spec.coords["x"])
    assert info.spec.splits == spec.splits and info.spec.fields == spec.fields
    part = io.read_arrays(written, ["u"], start=1, stop=3, stride=2)
    np.testing.assert_array_equal(part["u"], arrays["u"][1:3, ::2, ::2].astype(np.float32))


def test_file_attributes_say_how_to_regenerate_it(written, spec):
    with h5py.File(written) as f:
        attrs = dict(f.attrs)
        assert f["a"].chunks is not None and f["a"].compression == "gzip"
    assert attrs["format"] == io.FORMAT_NAME and attrs["format_version"] == io.FORMAT_VERSION
    assert attrs["generator"] == "test" and attrs["seed"] == 42
    assert json.loads(attrs["parameters"]) == spec.parameters
    assert attrs["sciml_version"] == sciml.__version__
    created = datetime.fromisoformat(attrs["created"])
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=5)


def test_truncated_file_is_rejected_as_truncated(written):
    data = written.read_bytes()
    written.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="is truncated: it ends before the size its HDF5"):
        io.read_info(written)


def test_file_that_is_not_hdf5_is_rejected(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("a,u\n1,2\n")
    with pytest.raises(DataFileError, match="not a readable HDF5 file"):
        io.read_arrays(path)


def test_foreign_hdf5_file_is_rejected_naming_its_contents(tmp_path):
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["coeff"] = np.zeros((3, 4, 4))
    with pytest.raises(DataFileError, match=r"not a sciml data set.*\['coeff'\]"):
        io.read_info(path)


@pytest.mark.parametrize("damage, message", [
    (lambda f: (f.__delitem__("u"), f.create_dataset("u", data=np.zeros((5, 4, 5), "f4"))),
     r"field 'u' has shape \(5, 4, 5\), expected \(6, 4, 5\)"),
    (lambda f: f.__delitem__("a"), "field 'a' is declared but missing"),
    (lambda f: (f.__delitem__("u"), f.create_dataset("u", data=np.zeros((6, 4, 5)))),
     "field 'u' has dtype float64, expected float32"),
    (lambda f: f.attrs.__delitem__("seed"), r"without the attributes \['seed'\]"),
    (lambda f: f.attrs.__setitem__("format_version", 99), "format version 99"),
    (lambda f: f.attrs.__setitem__("fields", json.dumps(["a", "u"])),
     r"attribute 'fields' is a JSON list .*expected a JSON object \{name: per-sample grid"),
    (lambda f: f.attrs.__setitem__("fields", json.dumps({"a": "4x5"})),
     "attribute 'fields' .* must map each field to a list of integers"),
    (lambda f: f.attrs.__setitem__("splits", json.dumps([[0, 5]])),
     r"attribute 'splits' is a JSON list .*expected a JSON object \{name: \[start, stop\]\}"),
])
def test_mis_shaped_or_damaged_file_is_rejected_naming_the_problem(written, damage, message):
    with h5py.File(written, "a") as f:
        damage(f)
    with pytest.raises(DataFileError, match=message):
        io.read_info(written)


def test_arrays_that_do_not_match_the_spec_are_not_written(tmp_path, spec, arrays):
    with pytest.raises(DataFileError, match=r"field 'u' has shape \(6, 5, 4\)"):
        io.write_dataset(tmp_path / "x.h5", spec, {**arrays, "u": np.zeros((6, 5, 4))})
    with pytest.raises(DataFileError, match="missing \\['u'\\]"):
        io.write_dataset(tmp_path / "x.h5", spec, {"a": arrays["a"]})
    with pytest.raises(DataFileError, match="NaN"):
        io.write_dataset(tmp_path / "x.h5", spec, {**arrays, "a": arrays["a"] * np.nan})
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(written, spec, arrays,
                                                                    monkeypatch):
    before = written.read_bytes()

    def crash(path):
        raise OSError("disk full")

    monkeypatch.setattr(io, "_fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        io.write_dataset(written, spec, {k: v + 1 for k, v in arrays.items()})
    assert written.read_bytes() == before
    assert [p.name for p in written.parent.iterdir()] == [written.name]


def test_chunked_writer_refuses_to_finalize_with_missing_chunks(tmp_path, spec, arrays):
    writer = io.ChunkedWriter(tmp_path / "c.h5", spec, chunk_size=4)
    writer.write_chunk(1, {k: v[4:] for k, v in arrays.items()})
    assert writer.pending == [0]
    with pytest.raises(DataFileError, match="1 of 2 chunks are missing"):
        writer.finalize()
    writer.write_chunk(0, {k: v[:4] for k, v in arrays.items()})
    np.testing.assert_array_equal(io.read_arrays(writer.finalize())["a"],
                                  arrays["a"].astype(np.float32))


def test_inconsistent_specs_are_rejected():
    with pytest.raises(DataFileError, match="outside the 3 samples"):
        io.DatasetSpec("g", {}, 0, 3, {"a": (2,)}, splits={"train": (0, 4)})
    with pytest.raises(DataFileError, match="JSON"):
        io.DatasetSpec("g", {"f": object()}, 0, 3, {"a": (2,)})
    with pytest.raises(DataFileError, match="invalid array name"):
        io.DatasetSpec("g", {}, 0, 3, {"a/b": (2,)})


# -- checkpoints --------------------------------------------------------------------------------
def test_pickled_objects_are_refused_without_torchs_weights_only_advice(tmp_path):
    torch = pytest.importorskip("torch")

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "sciml-checkpoint", "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(DataFileError, match="holds objects other than tensors and plain data "
                                            r"\(it refers to .*print\), so sciml refuses "
                                            "to unpickle it") as info:
        sciml_checkpoint().load_checkpoint(tmp_path / "evil.pt")
    assert "weights_only" not in str(info.value)


def sciml_checkpoint():
    from sciml.io import checkpoint

    return checkpoint


@pytest.mark.parametrize("method, config, message", [
    ("mgno", {"ndim": 2, "in_channels": 1, "out_channels": 1,
              "network": {"channels": 10**5, "layers": 4, "levels": 6}},
     r"channels = 100000, outside \[0, 4096\]"),
    ("mgno", {"ndim": 2, "in_channels": 1, "out_channels": 1,
              "network": {"channels": 24, "layers": 4, "levels": 60}},
     r"levels = 60, outside \[0, 24\]"),
    ("fno", {"ndim": 2, "in_channels": 1, "out_channels": 1,
             "network": {"modes": 1000, "width": 4000, "layers": 4}},
     r"about .* weights \(more than 1e\+09\)"),
    ("deep_cd", {"kind": "multigrid", "ndim": 3, "channels": 10**5},
     r"channels = 100000, outside"),
])
def test_a_checkpoint_with_absurd_sizes_is_refused_before_building(tmp_path, method, config,
                                                                   message):
    pytest.importorskip("torch")
    path = tmp_path / "crafted.pt"
    sciml_checkpoint().save_checkpoint(path, {"kind": "model", "method": method,
                                              "config": config, "weights": {},
                                              "normalizers": {}})
    with pytest.raises(DataFileError, match=message):
        sciml.load_model(path)
