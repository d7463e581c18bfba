#!/usr/bin/env python3
"""The TensorFlow/Keras reference for `bee train`: the same network, data, split and loss.

Trains the paper's four-block early-exit network with Keras (model.fit) on a folder-per-class
dataset split by speaker exactly as bee splits it (salted SHA-1 rule), features from TensorFlow's
own log-mel pipeline, no augmentation, and prints per-epoch and final per-exit accuracies as JSON.
Binary mode is truly binary (STE sign on kernels and activations, kernels clipped to [-1, 1]),
as bee's: the paper's notebook creates its Larq layers without quantizers.

--arch picks the network: the paper's (bee, the default when training) or bee's default network
(reactnet: a real stem, binary stages with real shortcuts, RSign, RPReLU, magnitude-aware kernels
and pooled exit heads).

With --bench, no data: it times the training step (batch size --batch, default 64) on random
log-mel-like inputs, with model.fit and with a hand-written tf.function step, and prints one line
of JSON on stdout (tensorflow, keras, arch, params, batch, threads, and per way examplesPerSecond
and secondsPerStep), the rest on stderr: the Keras peer of timing bee's training step.

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tf/bin/python scripts/reference_keras.py --data ../shared/data/speech-commands-v0.02-test \\
        --split-salt bee --epochs 10 --out /tmp/reference.json
    /tmp/tf/bin/python scripts/reference_keras.py --bench --arch reactnet --batch 64 --steps 10
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import statistics
import sys
import time
import wave

import numpy as np
import tensorflow as tf
import keras

CLIP = 16000
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


def speaker_of(name):
    base = re.sub(r"(\.wav)+$", "", name, flags=re.I)
    cut = base.find("_nohash_")
    if cut < 0:
        return base
    prefix = base[:cut]
    return prefix[prefix.rfind("_") + 1:]


def split_of(speaker, salt, validation, test):
    h = hashlib.sha1((salt + speaker).encode()).hexdigest()
    percent = (int(h, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    return "validation" if percent < validation else "test" if percent < validation + test else "train"


def log_mel(samples):
    audio = tf.cast(samples, tf.float32) / 32767.0
    n = tf.shape(audio)[0]
    if n < CLIP:
        before = (CLIP - n) // 2
        audio = tf.pad(audio, [[before, CLIP - n - before]])
    else:
        start = (n - CLIP) // 2
        audio = audio[start:start + CLIP]
    stft = tf.signal.stft(audio, 400, 160, 1024, window_fn=tf.signal.hann_window)
    mel = tf.tensordot(tf.abs(stft), tf.signal.linear_to_mel_weight_matrix(64, 513, 16000, 60.0, 7800.0), 1)
    return tf.math.log(mel + 1e-6)


def load(root, salt, validation, test):
    root = pathlib.Path(root)
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and d.name != "_background_noise_")
    data = {"train": ([], []), "validation": ([], []), "test": ([], [])}
    for label, name in enumerate(classes):
        for path in sorted((root / name).rglob("*")):
            if not path.name.lower().endswith(".wav"):
                continue
            with wave.open(str(path), "rb") as w:
                assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, path
                samples = np.frombuffer(w.readframes(w.getnframes()), "<i2")
            xs, ys = data[split_of(speaker_of(path.name), salt, validation, test)]
            xs.append(log_mel(samples).numpy())
            ys.append(label)
    return classes, {k: (np.stack(x)[..., None], np.array(y)) for k, (x, y) in data.items()}


@tf.custom_gradient
def ste_sign(x):
    def grad(dy):
        return dy * tf.cast(tf.abs(x) <= 1, dy.dtype)
    return tf.sign(tf.sign(x) + 0.5), grad


class WeightClip(keras.constraints.Constraint):
    def __call__(self, w):
        return tf.clip_by_value(w, -1.0, 1.0)


class QuantConv2D(keras.layers.Layer):
    """A convolution (stride 1, SAME, no bias), its kernel the STE sign of a latent kernel clipped to
    [-1, 1] when binary. `scaled` (bee's scaledKernels, Larq's magnitude_aware_sign) multiplies the
    ±1 convolution by alpha = mean |w| per output channel, held constant (stop_gradient), as bee
    does: the same gradients as convolving with alpha * sign(w)."""

    def __init__(self, filters, kernel_size, binary, scaled=False, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.binary, self.scaled = filters, kernel_size, binary, scaled

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(*self.kernel_size, input_shape[-1], self.filters),
                                      initializer="glorot_uniform", name="kernel",
                                      constraint=WeightClip() if self.binary else None)

    def call(self, x):
        # Read as a tensor first: run eagerly, tf.custom_gradient refuses a variable read inside it.
        w = tf.convert_to_tensor(self.kernel)
        y = tf.nn.conv2d(x, ste_sign(w) if self.binary else w, 1, "SAME")
        if self.binary and self.scaled:
            y = y * tf.stop_gradient(tf.reduce_mean(tf.abs(w), axis=[0, 1, 2]))
        return y


class SignActivation(keras.layers.Layer):
    """The STE sign before a binary convolution; with `shift`, ReActNet's RSign: sign(x - b) with a
    learnable threshold b per channel (zeros), so each channel's sign point can move."""

    def __init__(self, shift=False, **kwargs):
        super().__init__(**kwargs)
        self.shift = shift

    def build(self, input_shape):
        self.threshold = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                         name="shift") if self.shift else None

    def call(self, x):
        return ste_sign(x - self.threshold if self.shift else x)


class RPReLU(keras.layers.Layer):
    """ReActNet's RPReLU: with t = x - gamma, t where t > 0 else slope * t, plus zeta; per channel,
    gamma and zeta from 0, slope from 0.25 (bee's src/model/rprelu.ts)."""

    def build(self, input_shape):
        shape = (input_shape[-1],)
        self.gamma = self.add_weight(shape=shape, initializer="zeros", name="gamma")
        self.slope = self.add_weight(shape=shape, initializer=keras.initializers.Constant(0.25), name="slope")
        self.zeta = self.add_weight(shape=shape, initializer="zeros", name="zeta")

    def call(self, x):
        t = x - self.gamma
        return tf.where(t > 0, t, self.slope * t) + self.zeta


class ChannelTile(keras.layers.Layer):
    """ReActNet's widening shortcut: the C input channels repeated to `channels`, y[..., j] = x[..., j % C].
    No weights, so the real path past a widening binary convolution costs no float MACs."""

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        self.channels = channels

    def call(self, x):
        copies = -(-self.channels // x.shape[-1])
        return tf.concat([x] * copies, -1)[..., :self.channels]


class ExitPooling(keras.layers.Layer):
    """bee's pooled exit head (src/model/exit-pooling.ts): per channel the global max, the global mean,
    then the mean of each cell of a rows x cols grid over time x frequency (cell r * cols + c; cuts at
    floor(i * size / parts)), as runs of C values: [n, C * (2 + rows * cols)]. The means are one
    product with a fixed [1 + cells, H * W] averaging matrix, as in bee."""

    def __init__(self, grid=(4, 2), **kwargs):
        super().__init__(**kwargs)
        self.grid = grid

    def build(self, input_shape):
        _, h, w, _ = input_shape
        rows, cols = self.grid
        row_cuts = [i * h // rows for i in range(rows + 1)]
        col_cuts = [j * w // cols for j in range(cols + 1)]
        averaging = np.zeros((1 + rows * cols, h, w), np.float32)
        averaging[0] = 1 / (h * w)
        for r in range(rows):
            for c in range(cols):
                cell = averaging[1 + r * cols + c, row_cuts[r]:row_cuts[r + 1], col_cuts[c]:col_cuts[c + 1]]
                cell[...] = 1 / cell.size
        self.averaging = averaging.reshape(1 + rows * cols, h * w)

    def call(self, x):
        _, h, w, c = x.shape
        means = tf.linalg.matmul(self.averaging, tf.reshape(x, [-1, h * w, c]))  # [n, 1 + cells, c]
        return tf.concat([tf.reduce_max(x, [1, 2]), tf.reshape(means, [-1, means.shape[1] * c])], -1)


def build_bee(classes, binary, filters=(32, 64, 128, 256)):
    """The paper's four-block network: per block two (1x3, 3x1) convolutions of the input, concatenated,
    a 1x1 convolution, max pooling, BatchNorm; exits GlobalMaxPool -> Dense."""
    act = (lambda: SignActivation()) if binary else (lambda: keras.layers.ReLU())
    inputs = keras.Input((98, 64, 1))
    x, exits = inputs, []
    for b, f in enumerate(filters, 1):
        a = act()(keras.layers.BatchNormalization()(QuantConv2D(f, (1, 3), binary)(x)))
        c = act()(keras.layers.BatchNormalization()(QuantConv2D(f, (3, 1), binary)(x)))
        y = QuantConv2D(f, (1, 1), binary)(keras.layers.Concatenate()([a, c]))
        y = keras.layers.BatchNormalization()(keras.layers.MaxPooling2D(2)(y))
        exits.append(keras.layers.Dense(classes, name=f"exit{b}")(keras.layers.GlobalMaxPooling2D()(y)))
        x = act()(y)
    return keras.Model(inputs, exits)


def build_reactnet(classes, binary, filters=(32, 96, 192, 384), grid=(4, 2)):
    """bee's default network (src/model/architectures/residual.ts, reactnet): a real 3x3 stem (16
    channels) + BN, then four stages of real activations flowing past binary convolutions,

        h <- RPReLU(BN(maxpool(conv1x1(RSign(x)))) + tile(avgpool(x)))    binary C -> f
        h <- RPReLU(h + BN(conv1x3(RSign(h))))                              binary f -> f
        h <- RPReLU(h + BN(conv3x1(RSign(h))))                              binary f -> f

    each stage's h read by its exit (ExitPooling -> Dense) and by the next stage. Binary kernels are
    magnitude-aware (scaled); BatchNorm momentum 0.9, bee's default. The float twin, as bee's: ReLU
    for every sign, real unscaled kernels."""
    sign = (lambda: SignActivation(shift=True)) if binary else (lambda: keras.layers.ReLU())

    def conv(f, kernel_size):
        return QuantConv2D(f, kernel_size, binary, scaled=binary)

    def batch_norm():
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-3)

    inputs = keras.Input((98, 64, 1))
    x = batch_norm()(QuantConv2D(filters[0] // 2, (3, 3), binary=False, name="stem")(inputs))
    exits = []
    for b, f in enumerate(filters, 1):
        body = batch_norm()(keras.layers.MaxPooling2D(2)(conv(f, (1, 1))(sign()(x))))
        shortcut = ChannelTile(f)(keras.layers.AveragePooling2D(2)(x))
        h = RPReLU()(keras.layers.Add()([body, shortcut]))
        for kernel_size in ((1, 3), (3, 1)):
            h = RPReLU()(keras.layers.Add()([h, batch_norm()(conv(f, kernel_size)(sign()(h)))]))
        exits.append(keras.layers.Dense(classes, name=f"exit{b}")(ExitPooling(grid)(h)))
        x = h
    return keras.Model(inputs, exits)


ARCHITECTURES = {"bee": build_bee, "reactnet": build_reactnet}
# bee's reactnet with 12 classes, BatchNorm moving statistics included (Keras counts them, as bee does).
REACTNET_PARAMS = 1_364_368


def train(args):
    """bee train's reference: trains on the data set and prints per-epoch and final accuracies."""
    t = time.time()
    classes, data = load(args.data, args.split_salt, args.validation_percent, args.test_percent)
    print(f"features: {time.time() - t:.0f} s; " + ", ".join(f"{k} {len(v[1])}" for k, v in data.items()), flush=True)
    model = ARCHITECTURES[args.arch](len(classes), args.precision == "binary")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=[loss] * 4, metrics=[["accuracy"]] * 4)

    history = []

    class Log(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.time()

        def on_epoch_end(self, epoch, logs=None):
            record = {"epoch": epoch + 1, "seconds": time.time() - self.started,
                      "train": [logs[f"exit{b}_accuracy"] for b in range(1, 5)],
                      "validation": [logs[f"val_exit{b}_accuracy"] for b in range(1, 5)]}
            history.append(record)
            print(json.dumps(record), flush=True)

    x, y = data["train"]
    model.fit(x, [y] * 4, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
              validation_data=(data["validation"][0], [data["validation"][1]] * 4), callbacks=[Log()])
    test = model.evaluate(data["test"][0], [data["test"][1]] * 4, verbose=0, return_dict=True)
    result = {"tensorflow": tf.__version__, "keras": keras.__version__, "args": {k: str(v) for k, v in vars(args).items()},
              "clips": {k: len(v[1]) for k, v in data.items()}, "history": history,
              "test": [test[f"exit{b}_accuracy"] for b in range(1, 5)],
              "secondsPerStep": sum(h["seconds"] for h in history) / (len(history) * -(-len(y) // args.batch_size))}
    print(json.dumps({"test": result["test"], "secondsPerStep": result["secondsPerStep"]}))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


def bench_data(batch, seed, classes=12):
    """A batch as bee's training benchmark makes one: log-mel-like inputs ~ normal(-8, 3), labels i % classes."""
    x = np.random.default_rng(seed).normal(-8, 3, (batch, 98, 64, 1)).astype(np.float32)
    return x, np.arange(batch) % classes


def compiled(args):
    """A fresh network (same seed, so the same initial weights for both timings), compiled with Adam
    (lr 1e-3) and the exits' sparse cross-entropies from logits, weights 1: their sum is the loss."""
    keras.utils.set_random_seed(args.seed)
    model = ARCHITECTURES[args.arch](12, args.precision == "binary")
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # No XLA: bee has none (and Keras's "auto" would pick none on a CPU anyway).
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=[loss] * 4, jit_compile=False)
    return model


def bench_fit(args, x, y):
    """model.fit on one batch, repeated. secondsPerStep is the timed fit's wall clock over its steps
    (total / steps, not a median): fit runs its steps back to back, with nothing to time them one by
    one but callbacks; the epoch's own setup (an iterator, the callbacks) is in the total, a few ms."""
    model = compiled(args)
    data = tf.data.Dataset.from_tensors((x, (y,) * 4)).repeat()
    model.fit(data, epochs=1, steps_per_epoch=2, verbose=0)  # warm-up: traces the train step, builds Adam
    started = time.perf_counter()
    history = model.fit(data, epochs=1, steps_per_epoch=args.steps, verbose=0)
    seconds = (time.perf_counter() - started) / args.steps
    log(f"fit: loss {history.history['loss'][-1]:.3f}, {seconds:.3f} s/step (total / steps)")
    return model.count_params(), seconds


def bench_tf_function(args, x, y):
    """A hand-written train step in one tf.function: the exits' summed loss, its gradient, Adam.
    Keras 3's optimizer.apply_gradients applies every variable's constraint (the binary kernels' clip
    to [-1, 1]) right after the update, as in fit's step, so the step has no clip of its own (it would
    clip twice). Each timed step reads its loss to the host, so no work is left pending; the median
    step is reported."""
    model = compiled(args)
    loss, optimizer = model.loss[0], model.optimizer
    variables = model.trainable_variables
    optimizer.build(variables)  # Adam's slots now: a tf.function may create variables only in its first trace

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            total = tf.add_n([loss(y, logits) for logits in model(x, training=True)])
        optimizer.apply_gradients(zip(tape.gradient(total, variables), variables))
        return total

    x, y = tf.constant(x), tf.constant(y)
    for _ in range(2):  # warm-up: the trace, and the first runs' allocations
        step(x, y).numpy()
    seconds = []
    for _ in range(args.steps):
        started = time.perf_counter()
        total = step(x, y).numpy()
        seconds.append(time.perf_counter() - started)
    log(f"tf.function: loss {total:.3f}, {statistics.median(seconds):.3f} s/step (median)")
    return statistics.median(seconds)


def bench(args):
    """Times bee's training step in Keras two ways, model.fit and a tf.function step, and prints one
    line of JSON on stdout (the rest goes to stderr)."""
    # Set before TensorFlow's runtime starts. By default as many threads as the cores this process
    # may use, which is what TensorFlow picks for 0, but set, so that the JSON says what ran.
    cores = len(os.sched_getaffinity(0))
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_threads or cores)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_threads or cores)
    x, y = bench_data(args.batch_size, args.seed)
    params, fit_seconds = bench_fit(args, x, y)
    if args.arch == "reactnet" and args.precision == "binary":
        assert params == REACTNET_PARAMS, f"reactnet has {params} parameters here, {REACTNET_PARAMS} in bee"
    function_seconds = bench_tf_function(args, x, y)

    def rate(seconds):
        return {"examplesPerSecond": args.batch_size / seconds, "secondsPerStep": seconds}

    threads = {"intra": tf.config.threading.get_intra_op_parallelism_threads(),
               "inter": tf.config.threading.get_inter_op_parallelism_threads()}
    print(json.dumps({"tensorflow": tf.__version__, "keras": keras.__version__, "arch": args.arch, "params": params,
                      "batch": args.batch_size, "threads": threads,
                      "fit": rate(fit_seconds), "tfFunction": rate(function_seconds)}), flush=True)


def log(message):
    print(message, file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bench", action="store_true", help="time the training step on random data instead of training")
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), help="default: bee (training), reactnet (--bench)")
    p.add_argument("--data", help="the data set's folder (training)")
    p.add_argument("--split-salt", default="")
    p.add_argument("--validation-percent", type=float, default=10)
    p.add_argument("--test-percent", type=float, default=20)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", "--batch", type=int, help="default: 128 (training), 64 (--bench)")
    p.add_argument("--steps", type=int, default=10, help="timed steps (--bench)")
    p.add_argument("--intra-threads", type=int, default=0, help="--bench; default: the usable cores")
    p.add_argument("--inter-threads", type=int, default=0, help="--bench; default: the usable cores")
    p.add_argument("--precision", choices=["binary", "float"], default="binary")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=pathlib.Path)
    args = p.parse_args()
    args.arch = args.arch or ("reactnet" if args.bench else "bee")
    args.batch_size = args.batch_size or (64 if args.bench else 128)
    if args.bench:
        if args.steps < 1:
            p.error("--steps must be at least 1")
        bench(args)
        return
    if not args.data:
        p.error("--data is required (or --bench)")
    keras.utils.set_random_seed(args.seed)
    train(args)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
