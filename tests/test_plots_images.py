"""Filter grids (conv, ViT patch filters + PCA, MLP templates) and example strips."""
from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import invariance.plots as P
from invariance.plots import MissingDataError
from invariance.plots.filters import filter_images, first_layer_filters, patch_embedding_pca


def _conv_model():
    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(5, 3, name="first")(x)
    y = keras.layers.Conv2D(4, 3, name="second")(y)
    y = keras.layers.GlobalAveragePooling2D(name="embedding")(y)
    return keras.Model(x, keras.layers.Dense(2, name="logits")(y), name="tiny_cnn")


def _vit_like():
    x = keras.Input((8, 8, 1))
    y = keras.layers.Conv2D(12, 4, strides=4, name="patch_embedding")(x)
    y = keras.layers.Conv2D(3, 1, name="later_conv")(y)
    y = keras.layers.GlobalAveragePooling2D(name="embedding")(y)
    return keras.Model(x, keras.layers.Dense(2, name="logits")(y), name="tiny_vit")


def _mlp():
    x = keras.Input((6, 6, 1))
    y = keras.layers.Flatten()(x)
    y = keras.layers.Dense(7, name="dense1")(y)
    return keras.Model(x, keras.layers.Dense(2, name="logits")(y), name="tiny_mlp")


def test_first_layer_filters_picks_patch_embedding_then_conv_then_dense():
    k, name, kind = first_layer_filters(_conv_model())
    assert (name, kind, k.shape) == ("first", "conv", (3, 3, 3, 5))
    k, name, kind = first_layer_filters(_vit_like())
    assert (name, kind, k.shape) == ("patch_embedding", "patch", (4, 4, 1, 12))
    k, name, kind = first_layer_filters(_mlp())
    assert (name, kind, k.shape) == ("dense1", "dense", (6, 6, 1, 7))


def test_model_without_first_layer_filters_is_a_clear_error():
    x = keras.Input((4,))
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.Dense(3)(x)), name="vec")
    with pytest.raises(MissingDataError, match="model 'vec': has no 'patch_embedding' layer"):
        first_layer_filters(model)


def test_pca_matches_the_covariance_eigenvectors_with_a_fixed_sign():
    rng = np.random.default_rng(0)
    kernels = rng.normal(size=(3, 3, 2, 40)) * np.linspace(3, 0.1, 18).reshape(3, 3, 2, 1)
    comps, ratio = patch_embedding_pca(kernels, 4)
    assert comps.shape == (4, 3, 3, 2) and ratio.shape == (4,)
    x = kernels.reshape(18, 40).T
    cov = np.cov(x, rowvar=False)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    for i in range(4):
        v = vecs[:, order[i]]
        v = v * np.sign(v[np.argmax(np.abs(v))])  # the documented sign convention
        assert comps[i].ravel() == pytest.approx(v, abs=1e-5)
    assert ratio == pytest.approx(vals[order[:4]] / vals.sum(), rel=1e-6)
    assert np.all(np.diff(ratio) <= 0)
    # deterministic: a sign flip of the input filters does not flip the components
    again, _ = patch_embedding_pca(-kernels, 4)
    assert again == pytest.approx(comps, abs=1e-5)


@pytest.mark.parametrize("k", [0, 19])
def test_pca_component_count_is_checked(k):
    with pytest.raises(MissingDataError, match="pca: must be between 1 and 18"):
        patch_embedding_pca(np.ones((3, 3, 2, 40)), k)


def test_filter_images_scale_each_filter_to_unit_range():
    kernels = np.stack([np.arange(9.0).reshape(3, 3, 1), -np.ones((3, 3, 1))], axis=-1)  # (3, 3, 1, 2)
    images = filter_images(kernels)
    assert images.shape == (2, 3, 3)
    assert images[0].min() == 0 and images[0].max() == 1
    assert np.all(images[1] == 0)  # a constant filter does not divide by zero
    rgb = filter_images(np.random.default_rng(0).normal(size=(2, 2, 3, 4)))
    assert rgb.shape == (4, 2, 2, 3)


def test_filter_grid_figure_has_one_image_per_filter():
    kernels, _, _ = first_layer_filters(_conv_model())
    fig = P.plot_filter_grid(kernels, title="kernels")
    assert isinstance(fig, Figure)
    assert sum(1 for ax in fig.axes if ax.images) == 5
    assert fig._suptitle.get_text() == "kernels"


def test_vit_filters_come_with_their_principal_components():
    fig = P.plot_model_filters(_vit_like())
    assert len(fig.subfigs) == 2
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 12 + 12  # 12 filters, min(28, 12, 16) = 12 components
    titles = [ax.get_title() for ax in images if ax.get_title()]
    assert len(titles) == 12 and all(t.endswith("%") for t in titles)
    assert "patch-embedding filters" in fig._suptitle.get_text()


def test_conv_filters_with_requested_pca():
    fig = P.plot_model_filters(_conv_model(), pca=3)
    assert sum(1 for ax in fig.axes if ax.images) == 5 + 3


def test_mlp_templates_have_the_image_shape():
    fig = P.plot_model_filters(_mlp())
    shown = [ax.images[0].get_array().shape for ax in fig.axes if ax.images]
    assert shown == [(6, 6)] * 7


def test_format_point_names_only_what_changes():
    assert P.format_point((0, 0, 0, 1)) == "original"
    assert P.format_point((4, 0, 0, 1)) == "dx = 4 px"
    assert P.format_point((0, -2, 30, 0.8)) == "dy = -2 px, angle = 30°, scale = 0.8×"


def test_sweep_example_points_are_evenly_spaced_with_both_ends():
    rows = [dict(sweep="dx", dx=float(v), dy=0.0, angle=0.0, scale=1.0, metric="accuracy", value=1.0)
            for v in range(-8, 9)]
    rows += [dict(sweep="dx", dx=np.nan, dy=np.nan, angle=np.nan, scale=np.nan, metric="mean_consistency", value=1.0)]
    rows += [dict(sweep="clean", dx=0.0, dy=0.0, angle=0.0, scale=1.0, metric="accuracy", value=1.0)]
    points = P.sweep_example_points(pd.DataFrame(rows), per_sweep=5)
    assert list(points) == ["dx"]
    assert points["dx"][:, 0].tolist() == [-8, -4, 0, 4, 8]
    assert np.all(points["dx"][:, 1:] == [0, 0, 1])


def test_example_strip_applies_the_shared_transform():
    from invariance.transforms import apply

    images = np.zeros((2, 9, 9, 1), np.uint8)
    images[0, 4, 4] = 255
    images[1, 2, 6] = 255
    points = np.array([[0, 0, 0, 1], [2, 0, 0, 1], [0, 0, 90, 1]], float)
    fig = P.plot_example_strip(images, points, labels=[0, 1], class_names=["dot", "corner"], title="what")
    axes = np.array(fig.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes[0]] == ["original", "dx = 2 px", "angle = 90°"]
    assert axes[0, 0].get_ylabel() == "dot" and axes[1, 0].get_ylabel() == "corner"
    shown = axes[0, 1].images[0].get_array()
    assert np.unravel_index(np.argmax(shown), shown.shape) == (4, 6)  # moved right by 2 px
    expected = keras.ops.convert_to_numpy(apply(images.astype(np.float32) / 255, points[2]))[1, ..., 0]
    assert np.asarray(axes[1, 2].images[0].get_array()) == pytest.approx(expected, abs=1e-6)
