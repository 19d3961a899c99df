"""
# Evaluating a model written as in the keras.io examples

The harness works on any Keras classifier, not only the toolkit's zoo. Here is a small
convnet written the way the keras.io examples write one: `Input` of raw pixel values, its own
`Rescaling(1/255)` layer, a softmax output. We train it briefly with plain `model.fit`, then
sweep horizontal shifts and rotations with `invariance.evaluate`.

*Shrunken demo: 2,000 training images, 2 epochs, 300 test images. Real numbers need the full
data and more epochs.*
"""
# %%
import invariance  # noqa: F401  (chooses the Keras backend before keras loads)

import keras
import numpy as np

ds = invariance.load_dataset("fashion_mnist_mini")
rng = np.random.default_rng(0)
train_idx = rng.permutation(len(ds.y_train))[:2000]
x_train = ds.x_train[train_idx].astype("float32")  # raw pixel values 0..255, as keras.io feeds them
y_train = ds.y_train[train_idx]

# %%
# The model, keras.io style: it expects pixels in [0, 255] and rescales them itself.
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    keras.layers.Rescaling(1.0 / 255),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Conv2D(64, 3, activation="relu"),
    keras.layers.MaxPooling2D(),
    keras.layers.Flatten(),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0)

# %%
# The harness's convention is float32 in [0, 1]. This model wants [0, 255]: its first layer
# is `Rescaling(1/255)`, which the harness detects, so it feeds raw pixel values. The range
# it used, and why, are in the table's attrs (`input_range=` overrides the detection). A
# wrong range would not fail loudly: the model would just see nearly black images, and the
# harness would warn that the clean accuracy is near chance.
x_test = ds.x_test[:300]  # uint8
y_test = ds.y_test[:300]
table = invariance.evaluate(model, x_test, y_test,
                            sweeps={"dx": "-6:6:1", "angle": "-30:30:10"},
                            metrics=["accuracy", "consistency"])
print("input range:", table.attrs["input_range"], "(" + table.attrs["input_range_source"] + ")")
print("warnings:", table.attrs["warnings"])
print(table.head())

# %%
# The table is tidy: one row per (sweep, transform point, metric). A pivot gives the curves.
dx = table[table["sweep"] == "dx"].pivot_table(index="dx", columns="metric", values="value")
print(dx.round(3))

# %%
# The softmax output is detected: the harness uses the probabilities as they are (a model
# that returns logits is fine too). Plot both sweeps.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, axis in zip(axes, ["dx", "angle"]):
    part = table[table["sweep"] == axis].pivot_table(index=axis, columns="metric", values="value")
    part.plot(ax=ax, marker="o")
    ax.set_xlabel({"dx": "horizontal shift (px, > 0 right)", "angle": "rotation (degrees, > 0 CCW)"}[axis])
    ax.set_ylim(0, 1.02)
axes[0].set_ylabel("value")
fig.suptitle("A keras.io-style CNN under shifts and rotations (shrunken demo)")
fig.tight_layout()
