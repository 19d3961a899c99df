"""The zoo's named presets and their one-line descriptions.

Plain specs, no keras: the command line lists these names in its help without loading keras.
:func:`invariance.models.register_preset` adds more.
"""
from __future__ import annotations

import dataclasses

from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec


def named(name: str, spec: ModelSpec) -> ModelSpec:
    """``spec`` as the preset ``name``."""
    return dataclasses.replace(spec, preset=name)


# The one place where named presets are defined. Each is small enough to train in seconds on
# a CPU on the bundled data; the descriptions appear in `invariance models`.
PRESETS: dict[str, ModelSpec] = {
    # The lecture's pair: the same two-block CNN with and without 2x2 max pooling. Without
    # pooling the flatten head sees 28x28x64 features, so it holds ~15x the parameters.
    "cnn_pool": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="same",
                        activation="relu", pooling="max", pool_size=2, head="flatten",
                        dense_units=128, dropout=0.25),
    "cnn_nopool": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="same",
                          activation="relu", pooling="none", pool_size=2, head="flatten",
                          dense_units=128, dropout=0.25),
    # LeCun et al. 1998: 5x5 valid convolutions, average pooling, tanh after pooling.
    "lenet5": CNNSpec(depth=2, channels=(6, 16), kernel_size=5, padding="valid", activation="tanh",
                      order="conv_pool_act", pooling="avg", pool_size=2, head="flatten",
                      dense_units=(120, 84)),
    # Springenberg et al. 2015: no pooling; each block ends in a stride-2 convolution; GAP head.
    "allconv": CNNSpec(depth=3, channels=32, channel_multiplier=2.0, convs_per_block=2, stride=2,
                       pooling="none", head="gap", dense_units=0),
    # Simonyan & Zisserman 2015, shrunk: blocks of two 3x3 convolutions, then max pooling.
    "vgg_tiny": CNNSpec(depth=3, channels=32, channel_multiplier=2.0, convs_per_block=2,
                        pooling="max", head="flatten", dense_units=128, dropout=0.3),
    # He et al. 2016, shrunk: residual blocks with batch norm, strided downsampling, GAP head.
    "resnet_tiny": CNNSpec(depth=3, channels=16, channel_multiplier=2.0, convs_per_block=2, stride=2,
                           batch_norm=True, residual=True, pooling="none", head="gap", dense_units=0),
    # The global-average-pooling counterpart of cnn_pool: three conv blocks (32-64-128) with
    # batch norm and 2x2 max pooling, then GAP and a linear head (no hidden dense layer). Batch
    # norm is what lets a GAP head train well here: without it the plain 2-block GAP CNN
    # reached only 0.81-0.83 test accuracy in 20 epochs.
    "cnn_gap": CNNSpec(depth=3, channels=32, channel_multiplier=2.0, kernel_size=3, padding="same",
                       activation="relu", batch_norm=True, pooling="max", pool_size=2, head="gap",
                       dense_units=0),
    # Chaman & Dokmanic 2021: cnn_pool with circular padding, a stride-1 max then adaptive
    # polyphase sampling, batch norm and a GAP head: exactly invariant to circular shifts.
    # Batch norm for the same reason as cnn_gap: without it the 2026-12-02 benchmark left
    # cnn_aps at 0.846 test accuracy on all 60k images (and 0.752 against 0.884 with it at
    # n=16000 on a 40 px canvas).
    "cnn_aps": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="circular",
                       activation="relu", batch_norm=True, pooling="aps", pool_size=2, head="gap",
                       dense_units=128, dropout=0.25),
    # Cohen & Welling 2016: the p4 twin of cnn_pool[head=gap,batch_norm=true] with half the
    # channels (16, 32 group channels), so the convolutions hold the same parameters and cost 4x
    # the MACs. Without batch norm it reached only 0.83 in the 27-epoch cap, not converged.
    "p4cnn": GCNNSpec(depth=2, channels=16, channel_multiplier=2.0, kernel_size=3, padding="same",
                      batch_norm=True, pooling="max", pool_size=2, group_pool="max", head="gap",
                      dense_units=128, dropout=0.25),
    "mlp": MLPSpec(hidden=(256, 128), dropout=0.2),
    # Dosovitskiy et al. 2021, shrunk: 4x4 patches divide 28, 32 and 36.
    "vit_tiny": ViTSpec(patch_size=4, width=64, depth=3, heads=4, mlp_ratio=2.0, pool="cls"),
}
for _name, _spec in PRESETS.items():
    PRESETS[_name] = named(_name, _spec)
del _name, _spec

DESCRIPTIONS: dict[str, str] = {
    "cnn_pool": "two conv blocks (32, 64) with 2x2 max pooling, flatten + dense 128",
    "cnn_nopool": "cnn_pool without pooling: a huge flatten head",
    "lenet5": "LeNet-5: 5x5 valid convs, avg pooling, tanh, dense 120-84",
    "allconv": "all-convolutional: stride-2 convs instead of pooling, GAP head",
    "vgg_tiny": "VGG-style: 3 blocks of two 3x3 convs + max pooling",
    "resnet_tiny": "ResNet-style: 3 residual blocks with batch norm, GAP head",
    "cnn_gap": "three conv blocks (32, 64, 128) with batch norm and max pooling, GAP + linear head",
    "cnn_aps": "cnn_pool with circular padding, batch norm, APS pooling and a GAP head: exact circular-shift invariance",
    "p4cnn": "p4 group CNN (16, 32 group channels), batch norm, 2x2 max pooling, GAP head: exact quarter-turn invariance",
    "mlp": "multilayer perceptron, hidden 256-128, no convolutions",
    "vit_tiny": "Vision Transformer: 4x4 patches, width 64, 3 blocks, 4 heads",
}
