"""The step budget that scales epochs with the training-set size."""
from __future__ import annotations

import pytest

from invariance.errors import SpecError
from invariance.training.budget import epoch_passes, epochs_for, steps_per_epoch


@pytest.mark.parametrize("n, batch, steps, lo, hi, expected", [
    (54000, 128, 4000, 5, 500, 10),     # 422 steps/epoch: ceil(4000/422) = 10
    (900, 128, 4000, 5, 500, 500),      # 8 steps/epoch would need 500 epochs: exactly the cap
    (225, 128, 4000, 5, 500, 500),      # 2 steps/epoch: capped
    (225, 128, 4000, 5, None, 2000),    # no cap
    (54000, 128, 400, 3, 200, 3),       # 1 epoch would do: the floor wins
    (128, 128, 10, 1, None, 10),        # one step per epoch
    (129, 128, 10, 1, None, 5),         # the partial batch is a step: 2 per epoch
    (1000, 1000, 1, 1, 1, 1),
])
def test_epochs_for_known_answers(n, batch, steps, lo, hi, expected):
    assert epochs_for(n, batch_size=batch, target_steps=steps, min_epochs=lo, max_epochs=hi) == expected


@pytest.mark.parametrize("n, batch, min_steps, passes, steps", [
    (225, 128, 1, 1, 2),          # the default: one pass
    (225, 128, 50, 29, 51),       # 29 passes of 225 = 6525 images = 51 steps >= 50
    (450, 128, 50, 15, 53),
    (3600, 128, 50, 2, 57),
    (14400, 128, 50, 1, 113),     # one pass already makes 50 steps
    (54000, 128, 50, 1, 422),
    (100, 100, 3, 3, 3),
])
def test_epoch_passes_and_steps_known_answers(n, batch, min_steps, passes, steps):
    assert epoch_passes(n, batch_size=batch, min_steps=min_steps) == passes
    assert steps_per_epoch(n, batch_size=batch, min_steps=min_steps) == steps
    assert steps >= min_steps and (passes == 1 or (passes - 1) * n < min_steps * batch)


def test_epochs_for_counts_epochs_of_several_passes():
    # 225 images, 51 steps per epoch: a 5000-step budget is ceil(5000 / 51) = 99 epochs, not 2500
    assert epochs_for(225, batch_size=128, target_steps=5000, min_steps=50) == 99
    assert epochs_for(225, batch_size=128, target_steps=5000) == 2500


def test_steps_stay_comparable_across_sizes():
    steps = []
    for n in (2000, 4000, 8000, 16000, 32000, 60000):
        e = epochs_for(n, batch_size=128, target_steps=4000, min_epochs=1)
        steps.append(e * steps_per_epoch(n, batch_size=128))
    assert all(4000 <= s < 4000 + 469 for s in steps)  # at most one extra epoch


@pytest.mark.parametrize("kwargs, field", [
    (dict(n_train=0), "n_train"),
    (dict(batch_size=0), "batch_size"),
    (dict(target_steps=-5), "target_steps"),
    (dict(target_steps=2.5), "target_steps"),
    (dict(min_epochs=0), "min_epochs"),
    (dict(min_epochs=10, max_epochs=5), "max_epochs"),
    (dict(batch_size=True), "batch_size"),
])
def test_epochs_for_rejects_bad_arguments(kwargs, field):
    args = dict(n_train=1000, batch_size=128, target_steps=100, min_epochs=1, max_epochs=None) | kwargs
    with pytest.raises(SpecError) as err:
        epochs_for(args.pop("n_train"), **args)
    assert err.value.field == field
