"""The invariance harness: sweeps, grids, random-k draws and walks on any Keras classifier.

:func:`evaluate` returns one tidy table (columns :data:`COLUMNS`). How it runs:

* One compiled function transforms a batch on the device and runs the model on it
  (:class:`invariance.harness.inference.Inference`).
* The untransformed ("clean") pass runs once. Its outputs serve as the reference of
  consistency, KL and the embedding metrics, and they *are* the outputs of every identity
  point: identity points are never recomputed, so the identity gives ``accuracy`` equal to
  the clean accuracy and ``consistency`` exactly 1.
* All sweep, grid and walk points are pooled and deduplicated; every (image, point) pair
  then streams through in batches of ``batch_size`` pairs, many points per forward pass,
  in image-major order. Per-point sums, per-image grid flags and per-image walk traces are
  updated batch by batch, so memory does not grow with the number of points.
* Random-k draws stream the same way, one point per pair.

Row conventions (downstream code relies on them; ``layer`` is ``""`` except for equivariance):

========================  ===============================================  ==============
sweep                     metric                                           dx..scale
========================  ===============================================  ==============
``clean``                 ``accuracy``                                     identity point
axis (``dx`` ...)         each requested point metric, per point            the point
axis                      ``mean_consistency``,                            NaN
                          ``mean_consistency_correct``
grid name                 each requested point metric, per point            the point
grid name                 ``grid_accuracy``, ``mean_consistency``,          NaN
                          ``mean_consistency_correct``
``random_k``              ``random_accuracy``, ``worst_of_k_accuracy``     NaN
``walk``                  ``flip_rate``, ``mac``                           NaN
``shift_pairs``           ``pair_consistency``, ``pair_accuracy``          NaN
``equivariance``          ``equivariance_error`` per layer and shift        dx, dy = shift
========================  ===============================================  ==============

``n`` is the number of images behind each value: all evaluation images, except for
``consistency_correct`` and ``mean_consistency_correct``, whose ``n`` is the number of images
the model classifies correctly untransformed (the only images they average over).

Summaries of a sweep or grid:

* ``mean_consistency`` is the mean of ``consistency`` over the sweep's (or grid's) points
  **other than the identity** ``(0, 0, 0, 1)``. The identity's consistency is 1 by
  construction, so counting it would only pull every model towards 1 by the same 1/T.
  (Before this rule, ``mean_consistency`` included the identity point; so do the committed
  reference results under ``results/reference/`` made before it.) A sweep of the identity
  alone has a NaN ``mean_consistency``.
* ``mean_consistency_correct`` is the mean of ``consistency_correct`` over the same points:
  consistency restricted to the images the model gets right untransformed, which compares
  models of different accuracy on images each of them "knows" (NaN when no image is correct).
* ``grid_accuracy`` is Engstrom et al.'s grid adversary: the fraction of images correct at
  every grid point (the identity included: an image wrong untransformed is wrong at it).

``worst_of_k_accuracy`` is the fraction of images correct at **all** k random draws, not
Engstrom et al.'s single highest-loss draw (how they differ:
:func:`~invariance.harness.metrics.worst_of_k_accuracy`).
Every summary comes from the same evaluation images (and draws) as ``clean`` accuracy.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from invariance.harness import metrics as M
from invariance.harness.columns import COLUMNS
from invariance.harness.equivariance import equivariance_error
from invariance.harness.inference import Inference, model_num_classes
from invariance.harness.input_range import INPUT_RANGES, chance_warning, resolve_input_range
from invariance.harness.inputs import _check_int, check_model_fits, prepare_inputs
from invariance.harness.shift_pairs import SWEEP as PAIR_SWEEP
from invariance.harness.shift_pairs import pair_metrics, resolve_shift_pairs
from invariance.harness.specs import resolve_grids, resolve_metrics, resolve_random_k, resolve_sweeps, resolve_walk
from invariance.seeding import check_seed
from invariance.transforms import AXES, IDENTITY, check_fill, check_interpolation, keras_transforms

DEFAULT_BATCH_SIZE = 512
EQUIVARIANCE_SAMPLES = 1000
"""``equivariance=True`` measures feature maps on the first this-many images (a ratio of totals needs no more)."""
_IDENTITY8 = keras_transforms(IDENTITY, height=1, width=1)[0]


def evaluate(model: Any, x: Any, y: Any, *, sweeps: Any = None, grids: Any = None, random_k: Any = None,
             walks: Any = None, metrics: Any = ("accuracy", "consistency", "kl"), fill: str = "constant",
             interpolation: str = "bilinear", batch_size: int = DEFAULT_BATCH_SIZE,
             embedding_layer: str | None = None, equivariance: bool = False, seed: int = 0,
             progress: bool = False, shift_pairs: Any = None, input_range: str | None = None) -> pd.DataFrame:
    """Measures a classifier's invariance to shifts, rotations and scalings.

    Args:
        model: Any Keras classifier taking float32 NHWC images and returning logits (or
            probabilities, when its last layer is a softmax). Images in [0, 1] by default; a
            model that rescales its own input (a leading ``Rescaling(1/255)``, or a
            ``Normalization`` adapted on 0..255 pixels) is detected and fed 0..255.
        x: Images (N, H, W, C), float in [0, 1] or uint8 (divided by 255).
        y: Integer labels (N,).
        sweeps: ``{axis: values}`` (e.g. ``{"dx": "-8:8:1", "angle": [-10, 0, 10]}``) or Sweeps. A
            sweep may take its own fill: ``{"angle": {"values": "0:345:15", "fill": "constant"}}``.
        grids: ``{name: {axis: values}}`` (e.g. ``{"translation_map": {"dx": "-6:6:1", "dy": "-6:6:1"}}``),
            with an optional ``"fill"`` key of its own.
        random_k: ``{"k": 10, "limits": {"dx": 3, "dy": 3, "angle": 30}}``, an int k, or a RandomKSpec.
        walks: The number of 1-px diagonal steps, ``{"steps": n}`` or a WalkSpec.
        metrics: Point metrics, from ``accuracy, consistency, consistency_correct, kl,
            embedding_cosine, embedding_distance`` (see :mod:`invariance.harness.metrics`).
            ``mean_consistency`` and ``mean_consistency_correct`` rows come with every sweep
            and grid whatever is asked here.
        fill: ``constant`` (zeros), ``wrap``, ``reflect`` or ``nearest``: of every sweep and grid
            that does not name its own, and of the walk and the random-k draws.
        interpolation: ``bilinear`` or ``nearest``.
        batch_size: (image, point) pairs per forward pass.
        embedding_layer: Layer whose output the embedding metrics compare; by default the
            layer named ``embedding``, else the input of the last Dense layer.
        equivariance: Also add :func:`invariance.harness.equivariance.equivariance_error` rows,
            measured on the first ``EQUIVARIANCE_SAMPLES`` images (their ``n``).
        seed: Seed of the random-k and shift-pair draws (the only randomness).
        progress: Show a progress bar.
        shift_pairs: Zhang (2019)'s consistency over two random shifts of each image:
            ``{"max_shift": 4, "pairs": 1, "fill": "wrap"}``, an int max_shift, or a
            :class:`~invariance.harness.shift_pairs.ShiftPairsSpec` (rows ``sweep="shift_pairs"``).
        input_range: ``"0-1"`` or ``"0-255"``: the pixel range the model is fed (the images
            are transformed in [0, 1], then scaled). None (default) detects it
            (:func:`invariance.harness.input_range.detect_input_range`).

    Returns:
        A DataFrame with columns :data:`COLUMNS` (see the module docstring for the rows).
        ``df.attrs`` records the settings, the embedding layer, the output kind, the
        ``input_range`` used and why (``input_range_source``), and ``warnings``: a list,
        holding :func:`~invariance.harness.input_range.chance_warning`'s text when the clean
        accuracy is within 2 points of chance (also issued as a Python ``UserWarning``).
    """
    sweep_list = resolve_sweeps(sweeps)
    grid_list = resolve_grids(grids)
    random_spec = resolve_random_k(random_k)
    walk_spec = resolve_walk(walks)
    pair_spec = resolve_shift_pairs(shift_pairs)
    metric_names = resolve_metrics(metrics)
    check_fill(fill)
    check_interpolation(interpolation)
    _check_int("batch_size", batch_size, 1)
    seed = check_seed(seed)
    input_range, range_source = resolve_input_range(model, input_range)
    x, y = prepare_inputs(x, y)
    check_model_fits(model, x.shape[1:], y)
    scale = INPUT_RANGES[input_range]

    wants_embedding = any(m in M.EMBEDDING_METRICS for m in metric_names)
    inference = Inference(model, embedding=wants_embedding, embedding_layer=embedding_layer,
                          fill=fill, interpolation=interpolation, input_scale=scale)
    n, height, width = len(x), x.shape[1], x.shape[2]

    point_sets = [s.points() for s in sweep_list] + [g.points() for g in grid_list]
    walk_points = walk_spec.points() if walk_spec else np.zeros((0, 4))
    # A point is computed once per fill: the fill modes in use, the evaluation's first (index 0)
    set_fills = [s.fill or fill for s in (*sweep_list, *grid_list)]
    fill_modes = list(dict.fromkeys([fill, *set_fills]))
    unique, inverse = _pool_points(point_sets + [walk_points],
                                   [fill_modes.index(f) for f in set_fills] + [0])
    unique, unique_fill = unique[:, :4], unique[:, 4].astype(np.int64)
    is_identity = np.all(unique == np.asarray(IDENTITY), axis=1)
    random_points = random_spec.points(n, seed) if random_spec else np.zeros((n, 0, 4))
    pair_points = pair_spec.points(n, seed).reshape(n, -1, 4) if pair_spec else np.zeros((n, 0, 4))
    passes = (n, n * int((~is_identity).sum()), random_points.shape[0] * random_points.shape[1],
              n * pair_points.shape[1])

    with _progress_bar(progress, sum(passes)) as tick:
        runner = _Runner(inference, x, y, batch_size=_even_batch(max(passes), batch_size), tick=tick)
        clean = runner.clean()
        stats = _PointStats(clean, len(unique), metric_names, from_logits=inference.from_logits)
        offsets = np.cumsum([0] + [len(p) for p in point_sets])
        for gi in range(len(grid_list)):
            stats.track_grid(inverse[offsets[len(sweep_list) + gi]:offsets[len(sweep_list) + gi + 1]])
        if walk_spec:
            stats.track_walk(inverse[offsets[-1]:])
        for u in np.flatnonzero(is_identity):
            stats.add(np.arange(n), np.full(n, u), clean.outputs, clean.embeddings)
        for code, mode in enumerate(fill_modes):
            computed = np.flatnonzero(~is_identity & (unique_fill == code))
            if not len(computed):
                continue
            table = keras_transforms(unique[computed], height=height, width=width)
            fill_runner = runner if code == 0 else _Runner(
                Inference(model, embedding=wants_embedding, embedding_layer=embedding_layer, fill=mode,
                          interpolation=interpolation, input_scale=scale), x, y, batch_size=runner.batch_size,
                tick=tick)
            fill_runner.product(table, lambda img, col, out, emb, computed=computed:
                                stats.add(img, computed[col], out, emb))
        draws_correct = None
        if random_spec:
            draws_correct = runner.per_image(random_points, clean)
        pair_top1 = None
        if pair_spec:
            pair_runner = runner
            if pair_spec.fill != fill:  # its own transform fill, so its own compiled function
                pair_runner = _Runner(Inference(model, fill=pair_spec.fill, interpolation=interpolation,
                                                input_scale=scale), x, y,
                                      batch_size=runner.batch_size, tick=tick)
            pair_top1 = pair_runner.per_image_top1(pair_points, clean).reshape(n, pair_spec.pairs, 2)

    rows = [_row("clean", IDENTITY, "accuracy", clean.accuracy, n)]
    for i, sweep in enumerate(sweep_list):
        rows += _point_rows(sweep.name, point_sets[i], inverse[offsets[i]:offsets[i + 1]], stats, metric_names,
                            is_identity)
    for gi, grid in enumerate(grid_list):
        i = len(sweep_list) + gi
        rows += _point_rows(grid.name, point_sets[i], inverse[offsets[i]:offsets[i + 1]], stats, metric_names,
                            is_identity)
        rows.append(_row(grid.name, None, "grid_accuracy", float(np.mean(stats.grid_ok[gi])), n))
    if random_spec:
        rows.append(_row("random_k", None, "random_accuracy", float(np.mean(draws_correct)), n))
        rows.append(_row("random_k", None, "worst_of_k_accuracy", float(np.mean(draws_correct.all(axis=1))), n))
    if walk_spec:
        rows.append(_row("walk", None, "flip_rate", float(np.mean(M.flips(stats.walk_top1))), n))
        rows.append(_row("walk", None, "mac", float(np.mean(M.abs_changes(stats.walk_prob))), n))
    if pair_spec:
        for metric, value in pair_metrics(pair_top1, y).items():
            rows.append(_row(PAIR_SWEEP, None, metric, value, n))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if equivariance:
        eq = equivariance_error(model, x[:EQUIVARIANCE_SAMPLES], batch_size=min(batch_size, 256), input_scale=scale)
        frame = pd.concat([frame, eq], ignore_index=True)
    frame.attrs.update({"fill": fill, "interpolation": interpolation, "seed": seed, "samples": n,
                        "sweep_fills": {t.name: t.fill for t in (*sweep_list, *grid_list)
                                        if t.fill is not None and t.fill != fill},
                        "shift_pairs_fill": pair_spec.fill if pair_spec else None,
                        "embedding_layer": inference.embedding_name,
                        "outputs": "logits" if inference.from_logits else "probabilities",
                        "input_range": input_range, "input_range_source": range_source, "warnings": []})
    num_classes = model_num_classes(model) or int(y.max()) + 1
    warning = chance_warning(clean.accuracy, num_classes, input_range=input_range)
    if warning:
        frame.attrs["warnings"].append(warning)
        warnings.warn(warning, UserWarning, stacklevel=2)
    return frame


# --------------------------------------------------------------------------- internals

class _Clean:
    """Outputs of the untransformed pass, the reference of every metric."""

    def __init__(self, outputs: np.ndarray, embeddings: np.ndarray | None, labels: np.ndarray, from_logits: bool):
        self.outputs = outputs
        self.embeddings = embeddings
        self.top1 = M.top1(outputs)
        self.correct = self.top1 == labels
        self.n_correct = int(self.correct.sum())
        self.logp = M.log_probabilities(outputs, from_logits=from_logits)
        self.accuracy = float(np.mean(self.correct))
        self.labels = labels
        self.scale = M.mean_pairwise_distance(embeddings) if embeddings is not None else float("nan")


def _even_batch(largest: int, batch_size: int) -> int:
    """The batch size that splits the largest pass into equal batches of at most ``batch_size``.

    Every forward call then has this one shape (short batches are padded), so the compiled
    function is traced once per ``evaluate`` instead of once per leftover size.
    """
    batches = -(-max(largest, 1) // batch_size)
    return -(-max(largest, 1) // batches)


class _Runner:
    """Streams (image, transform) pairs through the inference function in batches of one shape."""

    def __init__(self, inference: Inference, x: np.ndarray, y: np.ndarray, *, batch_size: int, tick: Callable):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.tick = tick
        self._inference = inference

    def inference(self, images: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        short = self.batch_size - len(images)
        if short <= 0:
            return self._inference(images, transforms)
        # Pad with copies of the first pair; the padded rows' outputs are dropped.
        images = np.concatenate([images, np.repeat(images[:1], short, axis=0)])
        transforms = np.concatenate([transforms, np.repeat(transforms[:1], short, axis=0)])
        out, emb = self._inference(images, transforms)
        keep = len(images) - short
        return out[:keep], (emb[:keep] if emb is not None else None)

    def clean(self) -> _Clean:
        outs, embs = [], []
        for start in range(0, len(self.x), self.batch_size):
            images = self.x[start:start + self.batch_size]
            out, emb = self.inference(images, np.tile(_IDENTITY8, (len(images), 1)))
            outs.append(out)
            embs.append(emb)
            self.tick(len(out))
        emb = np.concatenate(embs) if embs[0] is not None else None
        return _Clean(np.concatenate(outs), emb, self.y, self._inference.from_logits)

    def product(self, table: np.ndarray, consume: Callable) -> None:
        """Every image under every transform of ``table`` (T, 8); ``consume(img, col, out, emb)``."""
        t = len(table)
        total = len(self.x) * t
        for start in range(0, total, self.batch_size):
            pair = np.arange(start, min(start + self.batch_size, total))
            img, col = pair // t, pair % t
            out, emb = self.inference(self.x[img], table[col])
            consume(img, col, out, emb)
            self.tick(len(pair))

    def per_image(self, points: np.ndarray, clean: _Clean) -> np.ndarray:
        """Each image under its own k points (N, k, 4); returns correct (N, k) bool."""
        return self.per_image_top1(points, clean) == self.y[:, None]

    def per_image_top1(self, points: np.ndarray, clean: _Clean) -> np.ndarray:
        """Each image under its own k points (N, k, 4); returns the top-1 classes (N, k) int."""
        n, k = points.shape[:2]
        flat = points.reshape(-1, 4)
        table = keras_transforms(flat, height=self.x.shape[1], width=self.x.shape[2])
        identity = np.all(flat == np.asarray(IDENTITY), axis=1)
        top1 = np.zeros(n * k, dtype=np.int64)
        for start in range(0, n * k, self.batch_size):
            pair = np.arange(start, min(start + self.batch_size, n * k))
            img = pair // k
            out, _ = self.inference(self.x[img], table[pair])
            top = M.top1(out)
            same = identity[pair]
            top[same] = clean.top1[img[same]]  # the identity reuses the clean pass, as everywhere
            top1[pair] = top
            self.tick(len(pair))
        return top1.reshape(n, k)


class _PointStats:
    """Per-point sums over images, plus per-image grid flags and walk traces."""

    def __init__(self, clean: _Clean, n_points: int, metric_names: tuple[str, ...], *, from_logits: bool):
        self.clean = clean
        self.n_points = n_points
        self.from_logits = from_logits
        self.names = tuple(dict.fromkeys(("accuracy", "consistency", "consistency_correct", *metric_names)))
        self.sums = {name: np.zeros(n_points) for name in self.names}
        self.grid_members: list[np.ndarray] = []
        self.grid_ok: list[np.ndarray] = []
        self.walk_slot = None
        self.walk_top1 = self.walk_prob = None

    def track_grid(self, point_ids: np.ndarray) -> None:
        member = np.zeros(self.n_points, dtype=bool)
        member[point_ids] = True
        self.grid_members.append(member)
        self.grid_ok.append(np.ones(len(self.clean.labels), dtype=bool))

    def track_walk(self, point_ids: np.ndarray) -> None:
        self.walk_slot = np.full(self.n_points, -1)
        self.walk_slot[point_ids] = np.arange(len(point_ids))
        n = len(self.clean.labels)
        self.walk_top1 = np.zeros((n, len(point_ids)), dtype=np.int64)
        self.walk_prob = np.zeros((n, len(point_ids)))

    def add(self, img: np.ndarray, point: np.ndarray, outputs: np.ndarray, emb: np.ndarray | None) -> None:
        clean = self.clean
        top = M.top1(outputs)
        ok = top == clean.labels[img]
        agree = top == clean.top1[img]
        values = {"accuracy": ok, "consistency": agree, "consistency_correct": agree & clean.correct[img]}
        logp = None
        if "kl" in self.names or self.walk_slot is not None:
            logp = M.log_probabilities(outputs, from_logits=self.from_logits)
        if "kl" in self.names:
            values["kl"] = M.kl_divergence(clean.logp[img], logp)
        if "embedding_cosine" in self.names:
            values["embedding_cosine"] = M.cosine_similarity(emb, clean.embeddings[img])
        if "embedding_distance" in self.names:
            values["embedding_distance"] = M.normalized_distance(emb, clean.embeddings[img], clean.scale)
        for name, v in values.items():
            self.sums[name] += np.bincount(point, weights=v.astype(np.float64), minlength=self.n_points)
        for member, flags in zip(self.grid_members, self.grid_ok):
            flags[img[member[point] & ~ok]] = False
        if self.walk_slot is not None:
            slot = self.walk_slot[point]
            on = slot >= 0
            self.walk_top1[img[on], slot[on]] = top[on]
            self.walk_prob[img[on], slot[on]] = M.tracked_probability(logp[on], clean.top1[img[on]])

    def count(self, name: str) -> int:
        """The number of images a metric averages over: the correctly classified ones for
        ``consistency_correct``, else all."""
        return self.clean.n_correct if name == "consistency_correct" else len(self.clean.labels)

    def mean(self, name: str, point: int) -> float:
        count = self.count(name)
        return float(self.sums[name][point] / count) if count else float("nan")


def _pool_points(point_sets: list[np.ndarray], fill_codes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Unique (point, fill code) rows over all sets, (U, 5), and each set's rows as indices into
    them (concatenated): the same point under two fills is two rows."""
    stacked = [np.column_stack([p.reshape(-1, 4), np.full(len(p.reshape(-1, 4)), code)])
               for p, code in zip(point_sets, fill_codes)]
    stacked = np.concatenate(stacked) if stacked else np.zeros((0, 5))
    if len(stacked) == 0:
        return np.zeros((0, 5)), np.zeros(0, dtype=np.int64)
    unique, inverse = np.unique(stacked + 0.0, axis=0, return_inverse=True)
    return unique, inverse.reshape(-1)


def _point_rows(name: str, points: np.ndarray, ids: np.ndarray, stats: _PointStats,
                metric_names: tuple[str, ...], is_identity: np.ndarray) -> list[dict]:
    rows = []
    for point, u in zip(points, ids):
        for metric in metric_names:
            rows.append(_row(name, point, metric, stats.mean(metric, u), stats.count(metric)))
    moved = ids[~is_identity[ids]]  # the identity's consistency is 1 by construction: not a measurement
    for summary, metric in (("mean_consistency", "consistency"), ("mean_consistency_correct", "consistency_correct")):
        value = float(np.mean([stats.mean(metric, u) for u in moved])) if len(moved) else float("nan")
        rows.append(_row(name, None, summary, value, stats.count(metric)))
    return rows


def _row(sweep: str, point: Any, metric: str, value: float, n: int, layer: str = "") -> dict:
    coords = dict(zip(AXES, (float(v) for v in point))) if point is not None else dict.fromkeys(AXES, np.nan)
    return {"sweep": sweep, **coords, "metric": metric, "value": float(value), "n": int(n), "layer": layer}


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda k: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(), TextColumn("image x transform pairs"),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("evaluate", total=total)
        yield lambda k: bar.advance(task, k)
