"""sciml.data: splits, the torch dataset and serialisable normalisers."""

import subprocess
import sys

import numpy as np
import pytest

from sciml import data
from sciml.io import datasets as io
from sciml.learn import normalizers
from sciml.errors import DataFileError

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def path(tmp_path):
    rng = np.random.default_rng(0)
    a = 3 + 2 * rng.standard_normal((10, 8, 8))
    spec = io.DatasetSpec("test", {}, 0, 10, {"a": (8, 8), "u": (8, 8)},
                          splits={"train": (0, 8), "test": (8, 10)})
    return io.write_dataset(tmp_path / "d.h5", spec, {"a": a, "u": a**2})


def test_load_returns_the_requested_split_and_count(path):
    everything = data.load(path, split="all")
    train = data.load(path, split="train", n=5)
    test = data.load(path, split="test", fields=["u"], stride=2)
    np.testing.assert_array_equal(train["a"], everything["a"][:5])
    np.testing.assert_array_equal(test["u"], everything["u"][8:, ::2, ::2])
    assert set(test) == {"u"}


def test_unknown_split_or_too_many_samples_is_an_error_naming_the_options(path):
    with pytest.raises(DataFileError, match="no split 'val'; its splits: all, train, test"):
        data.load(path, split="val")
    with pytest.raises(DataFileError, match="n=9 samples, but split 'train' has 8"):
        data.load(path, split="train", n=9)


def test_unit_gaussian_normaliser_standardises_pointwise_and_decodes_exactly(path):
    x = torch.from_numpy(data.load(path, "all")["a"])
    norm = normalizers.UnitGaussianNormalizer.fit(x)
    z = norm.encode(x)
    assert torch.allclose(z.mean(0), torch.zeros(8, 8), atol=1e-5)
    assert torch.allclose(z.std(0), torch.ones(8, 8), atol=1e-3)
    assert torch.allclose(norm.decode(z), x, atol=1e-5)
    scalar = normalizers.GaussianNormalizer.fit(x)
    assert scalar.mean.ndim == 0 and abs(float(scalar.encode(x).std()) - 1) < 1e-3


def test_normaliser_state_survives_a_weights_only_checkpoint(tmp_path, path):
    x = torch.from_numpy(data.load(path, "all")["a"])
    norm = normalizers.UnitGaussianNormalizer.fit(x)
    torch.save({"x_normalizer": norm.state_dict()}, tmp_path / "ckpt.pt")
    state = torch.load(tmp_path / "ckpt.pt", weights_only=True)["x_normalizer"]
    back = normalizers.normalizer_from_state(state)
    assert isinstance(back, normalizers.UnitGaussianNormalizer)
    assert torch.equal(back.encode(x), norm.encode(x))
    with pytest.raises(ValueError, match="unknown normaliser kind"):
        normalizers.normalizer_from_state({**state, "kind": "minmax"})


def test_operator_pairs_read_the_split_and_the_trainer_checkpoints_their_normalisers(
        path, tmp_path):
    from sciml.io.checkpoint import load_checkpoint
    from sciml.learn.operator_data import load_operator_data
    from sciml.learn.trainer import Trainer

    train = load_operator_data(path, split="train", problem="darcy")
    test = load_operator_data(path, split="test", problem="darcy")
    np.testing.assert_array_equal(train.a, data.load(path, "train")["a"])
    assert test.u.shape == (2, 8, 8) and train.attrs["generator"] == "test"
    x_norm = normalizers.GaussianNormalizer.fit(torch.from_numpy(train.a))
    y_norm = normalizers.GaussianNormalizer.fit(torch.from_numpy(train.u))
    inputs = x_norm.encode(torch.from_numpy(train.a))[:, None]
    targets = torch.from_numpy(train.u)[:, None]
    torch.manual_seed(0)
    net = torch.nn.Conv2d(1, 1, 3, padding=1)

    def loss(model, batch):
        x, y = batch
        return torch.mean((y_norm.decode(model(x)) - y) ** 2)

    report = Trainer(net, loss, epochs=2, batch_size=4, progress=False,
                     checkpoint=tmp_path / "ckpt.pt",
                     extra_state={"normalizers": {"u": y_norm.state_dict()}}
                     ).fit((inputs, targets))
    assert len(report.history) == 2
    saved = load_checkpoint(tmp_path / "ckpt.pt")["extra"]["normalizers"]
    back = normalizers.normalizer_from_state(saved["u"])
    probe = torch.from_numpy(test.u)
    assert torch.equal(back.decode(probe), y_norm.decode(probe))


def test_importing_sciml_data_and_io_imports_neither_torch_nor_data_gen():
    code = ("import sys, sciml, sciml.io.datasets, sciml.data; "
            "assert 'torch' not in sys.modules, 'torch'; "
            "assert 'data_gen' not in sys.modules, 'data_gen'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
