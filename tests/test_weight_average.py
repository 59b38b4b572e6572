"""The moving average of the weights: its recursion, and what the Trainer does with it."""

import numpy as np
import pytest
import torch

from sciml.errors import InvalidOptionError
from sciml.learn.averaging import WeightAverage
from sciml.learn.losses import RelativeL2
from sciml.learn.trainer import Trainer


def data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(32, 3, generator=g)
    return X, X @ torch.tensor([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])


def linear():
    torch.manual_seed(1)
    return torch.nn.Linear(3, 2)


def loss(m, batch):
    return RelativeL2()(m(batch[0]), batch[1])


def fit(ema, on_step=None):
    net = linear()
    t = Trainer(net, loss, epochs=3, batch_size=8, optimizer=("adam", {"lr": 0.1}),
                progress=False, ema=ema)
    if on_step is not None:
        t.optimizer.register_step_post_hook(lambda *_: on_step(net))
    report = t.fit(data(), data())
    return net, report


def test_the_average_follows_its_recursion_with_the_warm_up():
    net = torch.nn.Linear(2, 1)
    start = net.weight.detach().numpy().copy()
    average = WeightAverage(net, decay=0.9)
    expected, seen = start, []
    for n in range(1, 30):
        with torch.no_grad():
            net.weight.add_(torch.randn_like(net.weight))
        seen.append(net.weight.detach().numpy().copy())
        average.update(net)
        d = min(0.9, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * seen[-1]
    np.testing.assert_allclose(average.shadow["weight"].numpy(), expected, rtol=1e-6)
    with average.applied(net):
        np.testing.assert_allclose(net.weight.detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_array_equal(net.weight.detach().numpy(), seen[-1])   # own ones back


def test_trainer_validates_and_keeps_the_averaged_weights():
    raw = []
    fit(None, on_step=lambda net: raw.append(net.weight.detach().clone()))
    averaged, report = fit(0.8)
    expected = linear().weight.detach().clone()
    history = []
    for n, weight in enumerate(raw, start=1):      # the same raw steps: ema only reads them
        d = min(0.8, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * weight
        if n % 4 == 0:                            # 32 samples, batch 8: 4 steps an epoch
            history.append(expected.clone())
    best = history[report.best_epoch]
    torch.testing.assert_close(averaged.weight.detach(), best, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        assert float(loss(averaged, data())) == pytest.approx(report.best_metric, rel=1e-5)


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, True, "0.99"])
def test_a_decay_outside_the_open_unit_interval_is_refused(bad):
    with pytest.raises(InvalidOptionError, match="ema must be a decay in"):
        Trainer(linear(), loss, epochs=1, ema=bad)
