"""The ``device`` path: geometric augmentation inside the compiled training step.

:class:`RandomAffine` draws one point per image with ``keras.random`` (a seeded
``SeedGenerator``) and applies it batched with ``keras.ops.image.affine_transform``
through :mod:`invariance.transforms`, so augmentation never leaves the device and runs
unchanged on TensorFlow, JAX and torch.

The layer is active only when called with ``training=True`` and is the identity
otherwise. The trainer never puts it in the model it saves: it wraps the zoo model as
``augmenter -> model`` for ``fit`` (:func:`with_augmentation`) and saves the inner model,
so ``model.keras`` is exactly the zoo model. The layer is still registered and
serialisable for users who want it inside their own models.
"""
from __future__ import annotations

from typing import Any

import keras
import numpy as np

from invariance import transforms as T
from invariance.augment.sampling import draw_options, integer_shift_box, point_ranges, sample_points_tensor
from invariance.augment.spec import GeometricSpec


@keras.saving.register_keras_serializable(package="invariance")
class RandomAffine(keras.layers.Layer):
    """Random shift, rotation and scaling per image, in the shared convention.

    Args:
        dx: (low, high) horizontal shift in pixels (> 0 moves content right).
        dy: (low, high) vertical shift in pixels (> 0 moves content down).
        angle: (low, high) rotation in degrees (> 0 counter-clockwise on screen).
        scale: (low, high) zoom factor (> 1 enlarges).
        fill: ``constant``, ``wrap``, ``reflect`` or ``nearest``.
        interpolation: ``bilinear`` or ``nearest``.
        seed: Seed of the layer's ``SeedGenerator``.
        shift_mode: ``continuous``, or ``integer`` for whole-pixel shifts.
        p: Probability that an image is transformed; the others pass unchanged.
    """

    def __init__(self, dx=(0.0, 0.0), dy=(0.0, 0.0), angle=(0.0, 0.0), scale=(1.0, 1.0),
                 fill="constant", interpolation="bilinear", seed=None, shift_mode="continuous", p=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.box = np.array([dx, dy, angle, scale], dtype=np.float64)
        GeometricSpec(shift=0.0, rotate=0.0, scale=0.0, fill=fill, interpolation=interpolation,
                      shift_mode=shift_mode, p=p)  # validates
        draw_options(self.box, shift_mode=shift_mode, p=p)
        if shift_mode == "integer":
            integer_shift_box(self.box)
        self.fill = fill
        self.interpolation = interpolation
        self.shift_mode = shift_mode
        self.p = float(p)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    @classmethod
    def from_spec(cls, spec: GeometricSpec, *, height: int, width: int, seed: int | None = None,
                  **kwargs) -> "RandomAffine":
        """The layer for a :class:`GeometricSpec` on images of the given size."""
        box = point_ranges(spec, height=height, width=width)
        return cls(*[tuple(float(v) for v in row) for row in box], fill=spec.fill,
                   interpolation=spec.interpolation, seed=seed, shift_mode=spec.shift_mode, p=spec.p, **kwargs)

    def reseed(self, key: int) -> None:
        """Restarts the layer's random stream at ``key``.

        The trainer calls this at the start of every epoch with a key derived from
        (seed, epoch), so a run resumed from a backup draws exactly the points an
        uninterrupted run would have drawn.
        """
        state = self.seed_generator.state
        state.assign(keras.ops.convert_to_tensor([int(key) & 0x7FFFFFFF, 0], dtype=state.dtype))

    def get_random_transformation(self, images: Any) -> Any:
        """Samples one point per image.

        Returns:
            float32 tensor of shape (N, 4): dx, dy, angle, scale.
        """
        return sample_points_tensor(self.seed_generator, keras.ops.shape(images)[0], self.box,
                                    shift_mode=self.shift_mode, p=self.p)

    def transform_images(self, images: Any, points: Any) -> Any:
        """Applies the points (one per image) with the shared transform.

        Returns:
            Tensor of the shape and dtype of ``images``.
        """
        h, w = images.shape[1], images.shape[2]
        return T.transform_tensor(images, T.keras_transforms_tensor(points, height=h, width=w),
                                  fill=self.fill, interpolation=self.interpolation)

    def call(self, images, training=None):
        if not training:
            return images
        return self.transform_images(images, self.get_random_transformation(images))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({name: [float(v) for v in row] for name, row in zip(T.AXES, self.box)})
        config.update({"fill": self.fill, "interpolation": self.interpolation, "seed": self.seed,
                       "shift_mode": self.shift_mode, "p": self.p})
        return config


def with_augmentation(model: keras.Model, augmenter: keras.layers.Layer) -> keras.Model:
    """A training wrapper ``augmenter -> model`` that shares ``model``'s weights.

    Train the wrapper; save ``model``. The augmenter's only state is its seed.

    Returns:
        A functional ``keras.Model`` with the same inputs and outputs shapes as ``model``.
    """
    inputs = keras.Input(shape=model.input_shape[1:], name="images")
    return keras.Model(inputs, model(augmenter(inputs)), name=f"{model.name}_augmented")
