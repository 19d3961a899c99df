"""
# The transform convention on one garment

Every part of the toolkit (augmentation, the invariance harness, the figures) moves images
with one deterministic function, `invariance.transforms.apply`. A transform point is
`(dx, dy, angle, scale)`: `dx > 0` moves content right, `dy > 0` down (pixels); `angle` is in
degrees, counter-clockwise on screen, about the centre `((W-1)/2, (H-1)/2)`; `scale > 1`
enlarges. They compose as scale, then rotate, then shift.
"""
# %%
# Load one ankle boot from the bundled mini data (no download).
import invariance  # first: it picks the Keras backend

import keras
import matplotlib.pyplot as plt
import numpy as np
from invariance import transforms

ds = invariance.load_dataset("fashion_mnist_mini")
boot = ds.x_test[ds.y_test == 9][:1]  # uint8, shape (1, 28, 28, 1)
print(ds.class_names[9], boot.shape, boot.dtype)

# %%
# One axis at a time. The same points drive augmentation and the harness.
points = [(0, 0, 0, 1), (5, 0, 0, 1), (0, 5, 0, 1), (0, 0, 45, 1), (0, 0, 0, 1.4)]
x = boot.astype("float32") / 255.0
moved = np.stack([keras.ops.convert_to_numpy(transforms.apply(x, p))[0] for p in points])

fig, axes = plt.subplots(1, len(points), figsize=(2 * len(points), 2.3))
for ax, img, p in zip(axes, moved, points):
    ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"dx={p[0]} dy={p[1]}\nangle={p[2]} scale={p[3]}", fontsize=8)
    ax.axis("off")
fig.tight_layout()

# %%
# Where does the content go? Track the centre of mass: a shift of (5, 0) moves it 5 px
# right, exactly, because integer shifts are exact permutations of pixels (no blur).
def centre_of_mass(img):
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    m = img[..., 0]
    return float((xx * m).sum() / m.sum()), float((yy * m).sum() / m.sum())

c0 = centre_of_mass(moved[0])
c1 = centre_of_mass(keras.ops.convert_to_numpy(transforms.apply(x, (5, 0, 0, 1), fill="wrap"))[0])
print(f"centre of mass: ({c0[0]:.2f}, {c0[1]:.2f}) -> ({c1[0]:.2f}, {c1[1]:.2f}) with a circular 5 px shift")

# %%
# The figure helper the study reports use draws the same thing, with `fill` choices:
# `constant` (zeros, the default) versus `wrap` (circular).
from invariance.plots import plot_example_strip

# The toolkit's figure functions return a plain matplotlib Figure and leave pyplot alone;
# `plt.figure(fig)` hands one to pyplot, so that a notebook (or this gallery) shows it.
strip = plot_example_strip(boot, [(0, 0, 0, 1), (10, 0, 0, 1), (10, 0, 30, 0.8)],
                           labels=ds.y_test[ds.y_test == 9][:1], class_names=ds.class_names,
                           fill="wrap", title="fill: wrap")
shown = plt.figure(strip)
