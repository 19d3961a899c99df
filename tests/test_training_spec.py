"""TrainSpec validation, optimiser and schedule construction."""
import keras
import numpy as np
import pytest

from invariance.errors import SpecError
from invariance.training import TrainSpec, resolve_train_spec
from invariance.training.optimizer import make_optimizer
from invariance.training.schedule import epoch_plan


def test_defaults_and_forms():
    assert resolve_train_spec(None) == TrainSpec()
    spec = resolve_train_spec({"epochs": 3, "batch_size": 64, "learning_rate": 1e-2, "early_stopping": 2})
    assert (spec.epochs, spec.batch_size, spec.early_stopping) == (3, 64, 2)
    assert resolve_train_spec(spec) is spec
    assert TrainSpec().val_fraction == 0.1 and TrainSpec().early_stopping == 3
    assert (TrainSpec().schedule, TrainSpec().epochs) == ("warmup_cosine", None)


BAD = [
    ({"optimizer": "rmsprop"}, "train.optimizer", "'adam', 'adamw', 'sgd'"),
    ({"learning_rate": 0}, "train.learning_rate", "must be > 0"),
    ({"learning_rate": "fast"}, "train.learning_rate", "must be a number"),
    ({"momentum": 1.0}, "train.momentum", "[0, 1)"),
    ({"weight_decay": -1}, "train.weight_decay", "between 0.0 and 1.0"),
    ({"schedule": "linear"}, "train.schedule", "'warmup_cosine', 'none', 'cosine', 'step'"),
    ({"warmup_epochs": -1}, "train.warmup_epochs", "between 0.0 and 1000.0"),
    ({"decay_steps": 0}, "train.decay_steps", ">= 1"),
    ({"decay_passes": 0.5}, "train.decay_passes", "between 1.0 and 100000.0"),
    ({"lr_floor": 1.5}, "train.lr_floor", "between 0.0 and 1.0"),
    ({"min_delta": -0.1}, "train.min_delta", ">= 0.0"),
    ({"stop_after": 1.5}, "train.stop_after", "between 0.0 and 1.0"),
    ({"step_size": 0}, "train.step_size", ">= 1"),
    ({"gamma": 0}, "train.gamma", "(0, 1]"),
    ({"batch_size": 0}, "train.batch_size", "between 1 and 65536"),
    ({"batch_size": 1.5}, "train.batch_size", "must be an integer"),
    ({"epochs": 0}, "train.epochs", "between 1"),
    ({"early_stopping": 0}, "train.early_stopping", ">= 1"),
    ({"patience_steps": -1}, "train.patience_steps", ">= 0"),
    ({"val_fraction": 0.9}, "train.val_fraction", "between 0.0 and 0.5"),
    ({"val_fraction": 0.0, "early_stopping": 3}, "train.early_stopping", "validation split"),
    ({"min_epoch_steps": 0}, "train.min_epoch_steps", "between 1 and 100000"),
    ({"precise_bn": -1}, "train.precise_bn", "between 0 and 10000000"),
    ({"epoch": 3}, "train.epoch", "allowed keys are optimizer, learning_rate"),
    ([1, 2], "train", "mapping"),
]


def test_every_field_has_a_bad_case():
    fields = {f for f in TrainSpec.__dataclass_fields__}
    assert fields <= {b[1].split(".")[-1] for b in BAD}


@pytest.mark.parametrize("obj, field, fragment", BAD)
def test_bad_values_name_the_field(obj, field, fragment):
    with pytest.raises(SpecError) as err:
        resolve_train_spec(obj)
    assert err.value.field == field and fragment in str(err.value) and "received" in str(err.value)


@pytest.mark.parametrize("name, cls", [("adam", keras.optimizers.Adam), ("adamw", keras.optimizers.AdamW),
                                       ("sgd", keras.optimizers.SGD)])
def test_optimizers(name, cls):
    opt = _optimizer(TrainSpec(optimizer=name, weight_decay=0.01), 5)
    assert isinstance(opt, cls)


def _optimizer(spec, steps_per_epoch, passes=1):
    return make_optimizer(spec, epoch_plan(spec, steps_per_epoch=steps_per_epoch, passes=passes))


def _lr_at(opt, step):
    return float(keras.ops.convert_to_numpy(opt.learning_rate)) if step is None else \
        float(keras.ops.convert_to_numpy(opt._learning_rate(step)))


def test_schedules_follow_the_epochs():
    step = _optimizer(TrainSpec(learning_rate=1.0, schedule="step", step_size=2, gamma=0.5, epochs=6), 10)
    # epochs 1-2 at 1.0, epochs 3-4 at 0.5, epochs 5-6 at 0.25
    np.testing.assert_allclose([_lr_at(step, s) for s in (0, 19, 20, 39, 40)], [1, 1, 0.5, 0.5, 0.25])
    cos = _optimizer(TrainSpec(learning_rate=1.0, schedule="cosine", epochs=4), 10)
    np.testing.assert_allclose([_lr_at(cos, s) for s in (0, 20, 40)], [1, 0.5, 0], atol=1e-6)


def test_epoch_plan_scales_with_n():

    # Full Fashion-MNIST less its validation split: 54000 images, batch 128 -> 422 steps/epoch;
    # ceil(2000 / 422) = 5 epochs of horizon; the cap is 2 x 5 + patience 3.
    plan = epoch_plan(TrainSpec(), steps_per_epoch=422)
    assert (plan.warmup_steps, plan.decay_steps, plan.horizon_epochs, plan.max_epochs) == (422, 1688, 5, 13)
    # 900 images -> 8 steps/epoch: a 250-epoch horizon; the patience is ceil(150 / 8) = 19 epochs
    # (at least patience_steps), so the cap is 2 x 250 + 19 = 519 (early stopping ends sooner).
    small = epoch_plan(TrainSpec(), steps_per_epoch=8)
    assert (small.horizon_epochs, small.patience_epochs, small.max_epochs) == (250, 19, 519)
    assert plan.patience_epochs == 3  # 422 steps per epoch: the 3 epochs already exceed 150 steps
    # A cap below the horizon ends the cosine at the cap; a one-epoch run still reaches the floor.
    short = epoch_plan(TrainSpec(epochs=2), steps_per_epoch=10)
    assert (short.warmup_steps, short.decay_steps, short.horizon_epochs, short.max_epochs) == (10, 10, 2, 2)
    one = epoch_plan(TrainSpec(epochs=1), steps_per_epoch=10)
    assert (one.warmup_steps, one.decay_steps) == (9, 1)
    # Without early stopping the default cap is twice the horizon.
    assert epoch_plan(TrainSpec(early_stopping=None), steps_per_epoch=422).max_epochs == 10


@pytest.mark.parametrize("spec, spe, passes, horizon", [
    # 900 images, batch 128, min_epoch_steps 50: 8 passes of 7.125 steps in a 57-step epoch.
    (TrainSpec(decay_steps=5000), 57, 8, 88),                    # ceil(5000 / 57)
    (TrainSpec(decay_steps=5000, decay_passes=70), 57, 8, 9),    # ceil(ceil(70 x 7.125) = 499 / 57)
    # all 54000: one pass of 422 steps; 70 passes exceed decay_steps, so decay_steps rules
    (TrainSpec(decay_steps=5000, decay_passes=70), 422, 1, 12),
    # a horizon shorter than the warm-up still leaves one epoch of decay after it
    (TrainSpec(decay_steps=5000, decay_passes=1), 57, 8, 2),
])
def test_decay_passes_caps_the_horizon_in_passes(spec, spe, passes, horizon):
    from invariance.training.schedule import horizon_steps

    plan = epoch_plan(spec, steps_per_epoch=spe, passes=passes)
    assert plan.horizon_epochs == horizon
    assert plan.warmup_steps + plan.decay_steps == horizon * spe
    if spec.decay_passes is None:
        assert horizon_steps(spec, steps_per_pass=spe / passes) == spec.decay_steps


@pytest.mark.parametrize("spec, spe, earliest", [
    # warm-up 422 steps + half of the 1688 decay steps = 1266 steps -> epoch 3, + patience 3
    (TrainSpec(), 422, 6),
    # a 12-epoch cosine (decay_steps 5000 -> 12 x 422 = 5064 steps): ceil((422 + 2321) / 422) = 7, + 3
    (TrainSpec(decay_steps=5000), 422, 10),
    # 8 steps per epoch: warm-up 8 + 996 of the 1992 decay steps -> epoch 126, + patience 19
    (TrainSpec(), 8, 145),
    (TrainSpec(stop_after=0.0), 422, 0),       # watches from the first epoch
    (TrainSpec(stop_after=1.0), 422, 8),       # only after the whole cosine: 5 + 3
    (TrainSpec(epochs=4), 422, 4),             # never past the cap
    (TrainSpec(schedule="none"), 422, 0),      # no cosine to wait for
])
def test_earliest_stop_known_answers(spec, spe, earliest):

    assert epoch_plan(spec, steps_per_epoch=spe).earliest_stop_epochs == earliest


def test_plateau_counts_only_from_the_earliest_epoch():
    from invariance.training.stopping import plateaued, stop_fields

    best = {"epoch": 1, "val_loss": 1.0, "wait": 3}
    assert plateaued(best, 3) and plateaued(best, 3, epochs_done=4, earliest=4)
    assert not plateaued(best, 3, epochs_done=3, earliest=4)
    assert stop_fields("completed", best, patience=3, epochs_done=3, earliest=4) == \
        {"stop_reason": "cap", "converged": False}
    assert stop_fields("completed", best, patience=3, epochs_done=10, earliest=4)["converged"] is True


def test_a_recent_plateau_high_in_the_decay_is_mid_decay_not_convergence():
    from invariance.training.stopping import stop_fields

    recent = {"epoch": 23, "val_loss": 0.81, "wait": 3}  # the 16k rotation run: best 23, stopped at 26
    assert stop_fields("completed", recent, patience=3, epochs_done=26, earliest=26, lr_fraction=0.40) == \
        {"stop_reason": "mid_decay", "converged": False}
    # the same stop once the learning rate is down to a quarter of its peak, or a constant one
    for lr in (0.25, 0.1, None):
        assert stop_fields("completed", recent, patience=3, epochs_done=26, earliest=26, lr_fraction=lr)["converged"]
    # a best epoch twice the patience back is overfitting, not noise: a plateau at any learning rate
    old = {"epoch": 11, "val_loss": 0.35, "wait": 6}
    assert stop_fields("completed", old, patience=3, epochs_done=17, earliest=4, lr_fraction=0.9) == \
        {"stop_reason": "plateau", "converged": True}


def test_recorded_plateaus_are_re_read_under_todays_rule():
    from invariance.training.stopping import stop_under_todays_rule

    spec = TrainSpec(batch_size=128, decay_steps=5000, min_epoch_steps=50)
    # the 16k rotation run: 113 steps an epoch, stopped at epoch 26 (learning rate at 40% of peak), best 23
    assert stop_under_todays_rule(spec, n_fit=14400, epochs_run=26, best_epoch=23, stop_reason="plateau") == \
        {"stop_reason": "mid_decay", "converged": False}
    # the unaugmented one, best epoch 11: overfitting, a plateau
    assert stop_under_todays_rule(spec, n_fit=14400, epochs_run=26, best_epoch=11, stop_reason="plateau") == \
        {"stop_reason": "plateau", "converged": True}
    # a stop near the end of the cosine (epoch 40 of 45, the learning rate at 5% of its peak) is a plateau
    assert stop_under_todays_rule(spec, n_fit=14400, epochs_run=40, best_epoch=37, stop_reason="plateau")["converged"]
    assert stop_under_todays_rule(spec, n_fit=14400, epochs_run=90, best_epoch=88, stop_reason="cap") == \
        {"stop_reason": "cap", "converged": False}


def test_warmup_cosine_known_answers():
    from invariance.training.schedule import learning_rate_at

    # 10 steps/epoch, decay_steps 40 -> a 4-epoch horizon: warm-up over steps 0-9 to 1.0,
    # cosine over steps 10-39 from 1.0 to the floor 0.1, then 0.1 for good.
    spec = TrainSpec(learning_rate=1.0, decay_steps=40, lr_floor=0.1)
    opt = _optimizer(spec, 10)
    steps = [0, 5, 10, 25, 40, 100]
    expected = [0.0, 0.5, 1.0, 0.1 + 0.9 * 0.5, 0.1, 0.1]
    np.testing.assert_allclose([_lr_at(opt, s) for s in steps], expected, atol=1e-6)
    plan = epoch_plan(spec, steps_per_epoch=10)
    np.testing.assert_allclose([learning_rate_at(spec, plan, s) for s in steps], expected, atol=1e-12)
    # Between the known points, the keras schedule and the plain formula agree.
    np.testing.assert_allclose([_lr_at(opt, s) for s in range(45)],
                               [learning_rate_at(spec, plan, s) for s in range(45)], atol=1e-6)


def test_optimizer_follows_a_pass_capped_horizon():
    from invariance.training.schedule import learning_rate_at

    # 10 steps/epoch of 2 passes (5 steps each); 6 passes = 30 steps < decay_steps 400, so the
    # horizon is 3 epochs: warm-up over steps 0-9, cosine over 10-29, then the floor.
    spec = TrainSpec(learning_rate=1.0, decay_steps=400, decay_passes=6, lr_floor=0.1)
    opt = _optimizer(spec, 10, passes=2)
    plan = epoch_plan(spec, steps_per_epoch=10, passes=2)
    assert (plan.warmup_steps, plan.decay_steps, plan.horizon_epochs) == (10, 20, 3)
    np.testing.assert_allclose([_lr_at(opt, s) for s in (10, 20, 30, 100)], [1.0, 0.55, 0.1, 0.1], atol=1e-6)
    np.testing.assert_allclose([_lr_at(opt, s) for s in range(35)],
                               [learning_rate_at(spec, plan, s) for s in range(35)], atol=1e-6)
