"""The shared training loop, checkpoints and saved models."""

import pytest
import torch

from sciml.errors import DataFileError
from sciml.io.checkpoint import load_checkpoint, save_checkpoint
from sciml.learn.losses import FourierH1, RelativeH1, RelativeL2
from sciml.learn.trainer import Trainer


def problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(48, 3, generator=g)
    Y = X @ torch.tensor([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])
    return X, Y


def model():
    torch.manual_seed(1)
    return torch.nn.Linear(3, 2)


def loss(m, batch):
    return RelativeL2()(m(batch[0]), batch[1])


def trainer(m, path, **kw):
    return Trainer(m, loss, epochs=8, batch_size=8, optimizer=("adam", {"lr": 0.2}),
                   schedule=("onecycle", {"max_lr": 0.2}), checkpoint=path, progress=False,
                   **kw)


def test_training_lowers_the_loss_and_keeps_the_best_epoch(tmp_path):
    m = model()
    report = trainer(m, tmp_path / "c.pt").fit(problem(), problem())
    history = [h["val_metric"] for h in report.history]
    assert history[-1] < 0.5 * history[0]
    assert report.best_metric == min(history)
    with torch.no_grad():
        assert float(loss(m, problem())) == pytest.approx(report.best_metric, rel=1e-5)


@pytest.mark.parametrize("ema", [None, 0.9])
def test_killed_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path, ema):
    straight = model()
    trainer(straight, tmp_path / "a.pt", ema=ema).fit(problem(), problem())

    class Killed(Exception):
        pass

    interrupted = model()
    t = trainer(interrupted, tmp_path / "b.pt", ema=ema)
    original, calls = t._evaluate, []

    def evaluate_then_die(data):
        calls.append(1)
        if len(calls) == 4:
            raise Killed
        return original(data)

    t._evaluate = evaluate_then_die
    with pytest.raises(Killed):
        t.fit(problem(), problem())
    resumed = model()
    report = trainer(resumed, tmp_path / "b.pt", ema=ema).fit(problem(), problem())
    assert report.resumed_from_epoch == 2
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_checkpoint_round_trips_and_rejects_foreign_files(tmp_path):
    path = save_checkpoint(tmp_path / "x.pt", {"w": torch.arange(3.0), "meta": {"a": 1}})
    state = load_checkpoint(path)
    assert torch.equal(state["w"], torch.arange(3.0)) and state["meta"] == {"a": 1}
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(DataFileError):
        load_checkpoint(tmp_path / "junk.pt")
    torch.save({"w": 1}, tmp_path / "foreign.pt")
    with pytest.raises(DataFileError, match="not a sciml checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataFileError):
        load_checkpoint(truncated)


def test_checkpoint_refuses_pickled_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"format": "sciml-checkpoint", "payload": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(DataFileError):
        load_checkpoint(tmp_path / "evil.pt")


def test_relative_h1_sees_gradient_errors_that_l2_barely_sees():
    x = torch.linspace(0, 1, 128)
    true = torch.sin(torch.pi * x)[None]
    wiggle = true + 0.01 * torch.sin(40 * torch.pi * x)[None]
    l2, h1 = RelativeL2()(wiggle, true), RelativeH1(ndim=1)(wiggle, true)
    assert h1 > 5 * l2
    assert float(RelativeH1(ndim=1)(true, true)) == 0.0


def test_fourier_h1_weights_each_mode_by_its_wavenumber_and_sees_the_checkerboard():
    n = 64
    j = torch.arange(n, dtype=torch.float64)
    true = torch.cos(2 * torch.pi * 3 * j / n)[None, None].expand(1, 1, n, n).clone()
    error = 0.01 * torch.cos(2 * torch.pi * 10 * j / n)[None, None].expand(1, 1, n, n)
    # both fields vary along the last axis only: relative error 0.01 sqrt(1+(2*10)^2) /
    # sqrt(1+(2*3)^2), the wavenumber-k weights of the authors' H1 with a = 2
    expected = 0.01 * (1 + 400) ** 0.5 / (1 + 36) ** 0.5
    assert float(FourierH1(ndim=2)(true + error, true)) == pytest.approx(expected, rel=1e-9)
    checkerboard = 0.01 * (-1.0) ** (j[:, None] + j[None, :])
    # central differences vanish on the grid-scale mode: the finite-difference H1 sees only
    # its L2 part, the Fourier H1 weights it most
    fd = float(RelativeH1(ndim=2)(true + checkerboard, true))
    assert float(FourierH1(ndim=2)(true + checkerboard, true)) > 5 * fd


def test_a_finished_checkpoint_of_other_settings_or_data_is_refused_not_reused(tmp_path):
    from sciml.errors import InvalidOptionError

    path = tmp_path / "c.pt"
    trainer(model(), path).fit(problem(), problem())
    other_lr = Trainer(model(), loss, epochs=8, batch_size=8, optimizer=("adam", {"lr": 0.1}),
                       schedule=("onecycle", {"max_lr": 0.2}), checkpoint=path,
                       progress=False)
    with pytest.raises(InvalidOptionError, match=r"optimizer: checkpoint .*0\.2.*now .*0\.1"):
        other_lr.fit(problem(), problem())
    X, Y = problem()
    with pytest.raises(InvalidOptionError, match="training data differ"):
        trainer(model(), path).fit((X[:40], Y[:40]), problem())
    longer = Trainer(model(), loss, epochs=9, batch_size=8, optimizer=("adam", {"lr": 0.2}),
                     schedule=("onecycle", {"max_lr": 0.2}), checkpoint=path, progress=False)
    with pytest.raises(InvalidOptionError, match="cannot be extended"):
        longer.fit(problem(), problem())
    fresh = trainer(model(), path, resume=False).fit((X[:40], Y[:40]), problem())
    assert fresh.resumed_from_epoch is None and len(fresh.history) == 8
