"""The ``mlp`` family: a multilayer perceptron on the flattened image, no convolutions.

Layers: ``flatten``, ``dense{i}`` (``bn{i}``, ``act{i}``), ``embedding`` (the last hidden
layer, or the flatten layer when there is none), ``head_dropout``, ``logits``.
"""
from __future__ import annotations

import keras

from invariance.models._common import SeedStream, classifier_head
from invariance.models.registry import register_model
from invariance.models.specs import MLPSpec


@register_model("mlp", spec=MLPSpec)
def build_mlp(spec: MLPSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds an MLP classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        of shape (N, num_classes).
    """
    seeds = SeedStream(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Flatten(name="flatten" if spec.hidden else "embedding")(inputs)
    logits = classifier_head(x, hidden=spec.hidden, activation=spec.activation, batch_norm=spec.batch_norm,
                             dropout=spec.dropout, num_classes=num_classes, seeds=seeds, prefix="")
    return keras.Model(inputs, logits, name=spec.preset or spec.family)
