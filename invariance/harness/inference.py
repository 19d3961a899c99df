"""One compiled inference function per model: transform a batch on the device, then run it.

:class:`Inference` wraps any Keras classifier in a small model that takes
``(images, transforms)`` and returns ``[outputs]`` or ``[outputs, embedding]``, so that the
geometric transform and the forward pass run in one compiled call (``predict_on_batch``,
which Keras compiles once per input signature on every backend). Every forward pass of the
harness, the clean pass included, goes through this one function.
"""
from __future__ import annotations

from typing import Any

import keras
import numpy as np

from invariance.errors import InvarianceError, SpecError
from invariance.transforms import keras_transforms, transform_tensor

_IDENTITY8 = keras_transforms((0.0, 0.0, 0.0, 1.0), height=1, width=1)[0]


def model_input_shape(model: Any) -> tuple | None:
    """The model's input shape without the batch axis, or None when it is not known."""
    try:
        inputs = model.inputs
    except AttributeError:
        return None
    if not inputs:
        return None
    if len(inputs) != 1:
        raise InvarianceError(f"the harness needs a model with one image input; this model has {len(inputs)} inputs")
    return tuple(inputs[0].shape[1:])


def model_num_classes(model: Any) -> int | None:
    """Size of the model's last output axis (its class count), or None when not known."""
    try:
        outputs = model.outputs
    except AttributeError:
        return None
    if not outputs:
        return None
    if len(outputs) != 1:
        raise InvarianceError(f"the harness needs a model with one output (logits); this model has {len(outputs)}")
    return outputs[0].shape[-1]


def outputs_are_logits(model: Any) -> bool:
    """False when the model's last layer applies a softmax (its outputs are probabilities)."""
    layers = getattr(model, "layers", None) or []
    if not layers:
        return True
    last = layers[-1]
    if type(last).__name__ == "Softmax":
        return False
    activation = getattr(last, "activation", None)
    return getattr(activation, "__name__", "") != "softmax"


def find_embedding(model: Any, name: str | None = None) -> tuple[str, Any]:
    """The penultimate representation the embedding metrics compare.

    Args:
        model: A functional or Sequential Keras model.
        name: A layer name whose output to use. By default: the layer named ``embedding``
            (every zoo model has one), else the input of the model's last ``Dense`` layer.

    Returns:
        (a description such as ``"embedding"`` or ``"input of logits"``, the symbolic tensor).
    """
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs:
        raise InvarianceError("embedding metrics need a functional or Sequential model (one whose layers "
                              "can be tapped); this model is subclassed. Leave out embedding_cosine and "
                              "embedding_distance.")
    layers = model.layers
    names = [layer.name for layer in layers]
    if name is not None:
        if name not in names:
            raise SpecError("embedding_layer", "must name a layer of the model: " + ", ".join(names), name)
        return name, model.get_layer(name).output
    if "embedding" in names:
        return "embedding", model.get_layer("embedding").output
    for layer in reversed(layers):
        if isinstance(layer, keras.layers.Dense):
            return f"input of {layer.name}", layer.input
    raise InvarianceError("no embedding layer found: the model has no layer named 'embedding' and no Dense "
                          "layer; name one with embedding_layer")


class Inference:
    """Transform-then-predict for one model, compiled once.

    Args:
        model: Any Keras classifier taking float32 NHWC images (in [0, 1] unless ``input_scale``).
        embedding: Also return the penultimate activations (see :func:`find_embedding`).
        embedding_layer: Layer name for the embedding, or None for the default.
        fill: Fill mode of the transform.
        interpolation: Interpolation of the transform.
        input_scale: The transformed [0, 1] images are multiplied by this before the model
            (255 for a model that expects 0..255; see :mod:`invariance.harness.input_range`).
            Transforms are linear in the pixels and the fill is 0, so scaling after the
            transform equals transforming scaled images.
    """

    def __init__(self, model: Any, *, embedding: bool = False, embedding_layer: str | None = None,
                 fill: str = "constant", interpolation: str = "bilinear", input_scale: float = 1.0):
        self.model = model
        self.from_logits = outputs_are_logits(model)
        self.embedding_name = None
        features = model
        if embedding:
            self.embedding_name, tensor = find_embedding(model, embedding_layer)
            features = keras.Model(model.inputs, [model.outputs[0], tensor], name="harness_features")
        self.input_scale = float(input_scale)
        self._fused = _Fused(features, fill=fill, interpolation=interpolation, with_embedding=embedding,
                             input_scale=self.input_scale)

    def __call__(self, images: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Runs one batch.

        Args:
            images: float32 (B, H, W, C).
            transforms: float32 (B, 8) from :func:`invariance.transforms.keras_transforms`.

        Returns:
            (outputs (B, num_classes), embedding (B, D) flattened, or None).
        """
        result = self._fused.predict_on_batch([images, transforms])
        if isinstance(result, (list, tuple)):
            out, emb = result
            emb = np.asarray(emb)
            return np.asarray(out), emb.reshape(len(emb), -1)
        return np.asarray(result), None

    def identity(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Runs one batch untransformed (identity transforms, exact for every fill)."""
        return self(images, np.tile(_IDENTITY8, (len(images), 1)))


class _Fused(keras.Model):
    """(images, transforms) -> features(transform(images)); internal, never saved."""

    def __init__(self, features, *, fill, interpolation, with_embedding, input_scale=1.0):
        super().__init__(name="harness_inference")
        self.input_scale = input_scale
        self.features = features
        self.fill = fill
        self.interpolation = interpolation
        self.with_embedding = with_embedding

    def call(self, inputs, training=False):
        images, transforms = inputs
        moved = transform_tensor(images, transforms, fill=self.fill, interpolation=self.interpolation)
        if self.input_scale != 1.0:
            moved = moved * self.input_scale
        return self.features(moved, training=False)
