"""
# First-layer filters and ViT patch-embedding components

The lecture's pictures: what the first layer of a CNN learns (small oriented edge and blob
detectors; each channel picks out its own pattern), what each channel responds to on one
garment, and the principal components of a Vision Transformer's patch-embedding filters (the
figure of Dosovitskiy et al. 2021).

*Shrunken demo: 600 training images, 2 epochs, so the filters are only starting to take
shape; the reference studies' filter figures (`results/reference/*/figures/filters_*.png`)
come from models trained on all 60,000 images.*
"""
# %%
import invariance  # first: it picks the Keras backend

import keras
import matplotlib.pyplot as plt

from invariance.plots import first_layer_filters, plot_model_filters
from invariance.training import TrainSpec

ds = invariance.load_dataset("fashion_mnist_mini")
spec = TrainSpec(epochs=2, batch_size=64, learning_rate=2e-3)
cnn = invariance.train("cnn_pool", ds, n_train=600, train=spec, seed=0, verbose=0).model
vit = invariance.train("vit_tiny", ds, n_train=600, train=spec, seed=0, verbose=0).model

# %%
# The CNN's 32 first-layer 3x3 filters, each scaled to [0, 1] on its own. (The toolkit's
# figure functions return a plain Figure; `plt.figure(fig)` hands it to pyplot to show.)
shown = plt.figure(plot_model_filters(cnn))

# %%
# Channels pick out separate patterns: the first conv layer's response to one sneaker.
kernels, layer_name, kind = first_layer_filters(cnn)
x = ds.x_test[ds.y_test == 7][:1].astype("float32") / 255.0
first = keras.Model(cnn.input, cnn.get_layer(layer_name).output)
maps = keras.ops.convert_to_numpy(first(x))[0]
fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
axes[0, 0].imshow(x[0, ..., 0], cmap="gray")
axes[0, 0].set_title("input", fontsize=8)
for i, ax in enumerate(axes.flat[1:]):
    ax.imshow(maps[..., i], cmap="magma")
    ax.set_title(f"channel {i}", fontsize=8)
for ax in axes.flat:
    ax.axis("off")
fig.suptitle(f"{layer_name}: feature maps of one sneaker (15 of {maps.shape[-1]} channels)")
fig.tight_layout()

# %%
# The ViT's patch embedding (a strided 4x4 convolution named `patch_embedding`) and the
# principal components of its 64 filters.
shown = plt.figure(plot_model_filters(vit, pca=16))
