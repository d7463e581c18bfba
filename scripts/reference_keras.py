#!/usr/bin/env python3
"""The TensorFlow/Keras reference for `bee train`: the same network, data, split and loss.

Trains the paper's four-block early-exit network with Keras (model.fit) on a folder-per-class
dataset split by speaker exactly as bee splits it (salted SHA-1 rule), features from TensorFlow's
own log-mel pipeline, no augmentation, and prints per-epoch and final per-exit accuracies as JSON.
Binary mode is truly binary (STE sign on kernels and activations, kernels clipped to [-1, 1]),
as bee's: the paper's notebook creates its Larq layers without quantizers.

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tf/bin/python scripts/reference_keras.py --data ../shared/data/speech-commands-v0.02-test \\
        --split-salt bee --epochs 10 --out /tmp/reference.json
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
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
    def __init__(self, filters, kernel_size, binary, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size, self.binary = filters, kernel_size, binary

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(*self.kernel_size, input_shape[-1], self.filters),
                                      initializer="glorot_uniform", name="kernel",
                                      constraint=WeightClip() if self.binary else None)

    def call(self, x):
        k = ste_sign(self.kernel) if self.binary else self.kernel
        return tf.nn.conv2d(x, k, 1, "SAME")


class SignActivation(keras.layers.Layer):
    def call(self, x):
        return ste_sign(x)


def build(classes, binary, filters=(32, 64, 128, 256)):
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True)
    p.add_argument("--split-salt", default="")
    p.add_argument("--validation-percent", type=float, default=10)
    p.add_argument("--test-percent", type=float, default=20)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--precision", choices=["binary", "float"], default="binary")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=pathlib.Path)
    args = p.parse_args()
    keras.utils.set_random_seed(args.seed)

    t = time.time()
    classes, data = load(args.data, args.split_salt, args.validation_percent, args.test_percent)
    print(f"features: {time.time() - t:.0f} s; " + ", ".join(f"{k} {len(v[1])}" for k, v in data.items()), flush=True)
    model = build(len(classes), args.precision == "binary")
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


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
