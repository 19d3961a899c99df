"""Precise batch norm: exact statistics on tiny inputs, nothing else touched, and the trainer's use."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from invariance.models.group import P4BatchNormalization
from invariance.training.batch_norm import batch_norm_layers, recalibrate_batch_norm


def _images(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 4, 4, 8)) * np.arange(1, 9) + np.arange(8)).astype("float32")


def _bn_model(layer):
    inputs = keras.Input((4, 4, 8))
    x = layer(inputs)
    x = keras.layers.Dropout(0.5, seed=1)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, keras.layers.Dense(3)(x))


@pytest.mark.parametrize("batch_size", [3, 4, 10, 64])  # uneven last batches, one batch, fewer images than a batch
def test_first_layer_gets_the_exact_statistics_whatever_the_batch_size(batch_size):
    x = _images()
    bn = keras.layers.BatchNormalization(momentum=0.9)
    model = _bn_model(bn)
    assert recalibrate_batch_norm(model, x, batch_size=batch_size) == 1
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance), x.var(axis=(0, 1, 2)), rtol=1e-4)


def test_p4_batch_norm_pools_each_group_channel_over_its_four_planes():
    x = _images()  # 8 channels = 2 group channels x 4 rotations, the rotation axis last
    bn = P4BatchNormalization()
    model = _bn_model(bn)
    recalibrate_batch_norm(model, x, batch_size=3)
    planes = x.reshape(10, 4, 4, 2, 4)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_mean), planes.mean(axis=(0, 1, 2, 4)), rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(bn.moving_variance), planes.var(axis=(0, 1, 2, 4)),
                               rtol=1e-4)


def test_nothing_but_the_moving_statistics_changes():
    x = _images()
    bn = keras.layers.BatchNormalization(momentum=0.9)
    model = _bn_model(bn)
    dropout = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)][0]
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    recalibrate_batch_norm(model, x, batch_size=4)
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert bn.momentum == 0.9 and dropout.rate == 0.5


def test_a_model_without_batch_norm_or_without_images_is_left_alone():
    inputs = keras.Input((4, 4, 8))
    plain = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    assert batch_norm_layers(plain) == [] and recalibrate_batch_norm(plain, _images()) == 0
    bn = keras.layers.BatchNormalization()
    model = _bn_model(bn)
    assert recalibrate_batch_norm(model, _images()[:0]) == 0
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(bn.moving_mean), np.zeros(8))


def test_nested_models_are_searched():
    inner_bn = keras.layers.BatchNormalization()
    inner = _bn_model(inner_bn)
    inputs = keras.Input((4, 4, 8))
    outer = keras.Model(inputs, inner(inputs))
    assert batch_norm_layers(outer) == [inner_bn]


def test_inference_matches_batch_mode_once_recalibrated():
    # The failure precise BN removes: running averages that trail the weights. Here they are
    # left at their initial values (0 and 1), far from the data's statistics.
    x = _images(64)
    model = _bn_model(keras.layers.BatchNormalization())
    features = keras.Model(model.input, model.layers[1].output)
    stale = keras.ops.convert_to_numpy(features(x, training=False))
    recalibrate_batch_norm(model, x, batch_size=16)
    fresh = keras.ops.convert_to_numpy(features(x, training=False))
    normalised = (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-3)
    assert np.abs(stale - normalised).max() > 1.0
    np.testing.assert_allclose(fresh, normalised, atol=1e-4)


@pytest.mark.parametrize("augmentation", [None, {"albumentations": [{"HorizontalFlip": {"p": 0.5}}]}],
                         ids=["arrays", "albumentations (uint8 fit images)"])
def test_a_trained_batch_norm_model_keeps_the_statistics_of_its_fit_images(augmentation):
    # precise_bn >= the fit images: the first layer's statistics are those of all of them,
    # unaugmented, under the kept weights (the only epoch's).
    from invariance.data import load_dataset, to_float
    from invariance.training import train
    from invariance.training.run_data import split_run
    from invariance.training.spec import TrainSpec

    data = load_dataset("fashion_mnist_mini")
    spec = {"preset": "cnn_pool", "channels": 4, "dense_units": 16, "batch_norm": True}
    tspec = {"epochs": 1, "batch_size": 32, "precise_bn": 1000}
    result = train(spec, data, n_train=200, train=tspec, augmentation=augmentation, seed=3, verbose=0)
    split = split_run(data, 200, TrainSpec(**tspec), seed=3)
    x_fit = to_float(data.x_train[split.fit_idx])
    first = batch_norm_layers(result.model)[0]
    conv = keras.Model(result.model.input, first.input)
    out = keras.ops.convert_to_numpy(conv(x_fit, training=False))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(first.moving_mean), out.mean(axis=(0, 1, 2)),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(first.moving_variance), out.var(axis=(0, 1, 2)),
                               rtol=1e-3, atol=1e-7)


def test_an_epoch_end_callback_sees_the_recomputed_statistics_and_the_validation():
    from invariance.data import load_dataset, to_float
    from invariance.training import train
    from invariance.training.run_data import split_run
    from invariance.training.spec import TrainSpec

    data = load_dataset("fashion_mnist_mini")
    tspec = {"epochs": 2, "batch_size": 32, "precise_bn": 1000}  # more than the 180 fit images: all of them
    x_fit = to_float(data.x_train[split_run(data, 200, TrainSpec(**tspec), seed=3).fit_idx])
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            bn = batch_norm_layers(self.model)[0]
            first = keras.Model(self.model.layers[-1].input, bn.input)  # the zoo model inside the training model
            out = keras.ops.convert_to_numpy(first(x_fit, training=False))
            gap = np.abs(keras.ops.convert_to_numpy(bn.moving_mean) - out.mean(axis=(0, 1, 2))).max()
            seen.append((epoch, sorted(logs), gap))

    spec = {"preset": "cnn_pool", "channels": 4, "dense_units": 16, "batch_norm": True}
    train(spec, data, n_train=200, train=tspec, seed=3, verbose=0, callbacks=(Spy(),))
    assert [epoch for epoch, _, _ in seen] == [0, 1]
    assert all({"val_loss", "val_accuracy", "loss", "accuracy"} <= set(keys) for _, keys, _ in seen)
    assert all(gap < 1e-5 for _, _, gap in seen), seen


def test_a_quiet_run_without_callbacks_gives_fit_only_the_async_divergence_guard(monkeypatch):
    # Any other callback with batch hooks (the epoch-end wrapper has them) makes Keras wait for
    # every batch, ~5% of fit's throughput on CPU: studies train quietly and must not pay it.
    import invariance.training.trainer as trainer
    from invariance.data import load_dataset
    from invariance.training.callbacks import Divergence

    given = []
    real_fit = keras.Model.fit

    def spy(self, *args, **kwargs):
        given.append([type(c) for c in kwargs.get("callbacks") or []])
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    spec = {"preset": "cnn_pool", "channels": 4, "dense_units": 16, "batch_norm": True}
    trainer.train(spec, load_dataset("fashion_mnist_mini"), n_train=100, train={"epochs": 1, "batch_size": 32},
                  seed=0, verbose=0)
    assert given == [[Divergence]] and Divergence.async_safe
