"""
# A data-hunger curve

How much data does each design need? We train `cnn_pool` and the `mlp` baseline on nested,
class-balanced subsets of growing size, fit the saturating power law
`err(n) = a + b * n^(-c)` to each model's test errors (`invariance.curves.fit_power_law`),
and ask at which `n` each reaches a target accuracy (`samples_to_target`).

*Shrunken demo: n from 100 to 1,000 bundled images (the 3 sizes a 3-parameter fit needs at least), 2 to 6 epochs (24 to 190 optimiser
steps) per run, 1 seed. A curve from one seed has no interval and extrapolates freely; the
[data-hunger reference](../../reproductions/index.md#data-hunger) uses the full data,
2 seeds and bootstrap CIs (`invariance run studies/data_hunger_cpu.yaml`).*
"""
# %%
import invariance  # first: it picks the Keras backend

import math

import numpy as np
import pandas as pd

from invariance.curves import fit_power_law, power_law, samples_to_target
from invariance.training import TrainSpec

ds = invariance.load_dataset("fashion_mnist_mini")
sizes = [100, 300, 1000]
batch = 32
rows = []
for model in ["cnn_pool", "mlp"]:
    for n in sizes:
        # small subsets get more epochs (the studies' step budget, `train: {steps: ...}`, does
        # this properly); no validation split, to keep the demo fast
        steps_per_epoch = math.ceil(n / batch)
        spec = TrainSpec(epochs=min(6, max(2, math.ceil(60 / steps_per_epoch))), batch_size=batch,
                         learning_rate=2e-3, val_fraction=0.0, early_stopping=None)
        r = invariance.train(model, ds, n_train=n, train=spec, seed=0, verbose=0)
        rows.append({"model": model, "n_train": n, "epochs": spec.epochs,
                     "test_accuracy": r.metrics["test_accuracy"]})
table = pd.DataFrame(rows)
print(table.to_string(index=False))

# %%
# Fit the power law on the error scale and ask for 80% accuracy (reachable on this mini data).
target = 0.80
fits = {}
for model, part in table.groupby("model"):
    fit = fit_power_law(part["n_train"].to_numpy(), 1 - part["test_accuracy"].to_numpy())
    need = samples_to_target(fit.a, fit.b, fit.c, target, n_range=(min(sizes), max(sizes)))
    fits[model] = fit
    print(f"{model:8s} err(n) = {fit.a:.3f} + {fit.b:.2f} n^-{fit.c:.2f}")
    print(f"         {target:.0%} accuracy: " + (need.note or f"n = {need.n:,.0f} ({need.status})"))

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.6))
grid = np.geomspace(min(sizes), max(sizes), 100)
for (model, part), color in zip(table.groupby("model"), ["C0", "C1"]):
    ax.plot(part["n_train"], part["test_accuracy"], "o", color=color, label=model)
    fit = fits[model]
    ax.plot(grid, 1 - power_law(grid, fit.a, fit.b, fit.c), "-", color=color, alpha=0.7)
ax.axhline(target, ls=":", color="gray")
ax.set_xscale("log")
ax.set_xlabel("training images n (log scale)")
ax.set_ylabel("test accuracy")
ax.legend()
ax.set_title("Data hunger on the bundled mini data (shrunken demo, 1 seed)")
fig.tight_layout()
