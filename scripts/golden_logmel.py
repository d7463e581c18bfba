#!/usr/bin/env python3
"""Golden log-mel features from TensorFlow, for bee's test suite.

Runs the paper's feature pipeline with TensorFlow on every WAV in test/fixtures and writes
test/fixtures/golden-logmel.json. bee's TypeScript pipeline must match it to 1e-3 on every value.

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu==2.21.0
    /tmp/tf/bin/python scripts/golden_logmel.py
    # any other 16 kHz int16 clips (e.g. real recordings, checked with scripts/compare-logmel.ts):
    /tmp/tf/bin/python scripts/golden_logmel.py --out /tmp/real.json ../shared/data/speech-commands-v0.02-test/*/*.wav

Conventions shared with bee (src/features/logmel.ts): int16 / 32767; a clip shorter than 1 s is
zero-padded with floor(deficit / 2) samples before it and the rest after; a longer one is
centre-cropped, starting at floor(excess / 2).
"""
import argparse
import json
import pathlib
import wave

import numpy as np
import tensorflow as tf

SAMPLE_RATE = 16000
CLIP = 16000
ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "test" / "fixtures"


def read_int16(path):
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == SAMPLE_RATE, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def fit(audio):
    n = tf.shape(audio)[0]
    if n < CLIP:
        before = (CLIP - n) // 2
        return tf.pad(audio, [[before, CLIP - n - before]])
    start = (n - CLIP) // 2
    return audio[start:start + CLIP]


def log_mel(samples):
    audio = tf.cast(samples, tf.float32) / 32767.0
    stft = tf.signal.stft(fit(audio), frame_length=400, frame_step=160, fft_length=1024,
                          window_fn=tf.signal.hann_window)
    magnitude = tf.abs(stft)
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(
        num_mel_bins=64, num_spectrogram_bins=513, sample_rate=SAMPLE_RATE,
        lower_edge_hertz=60.0, upper_edge_hertz=7800.0)
    mel = tf.tensordot(magnitude, mel_matrix, 1)
    return tf.math.log(mel + 1e-6).numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wavs", nargs="*", type=pathlib.Path, help="default: test/fixtures/*.wav")
    parser.add_argument("--out", type=pathlib.Path, default=FIXTURES / "golden-logmel.json")
    args = parser.parse_args()
    clips = {}
    for path in args.wavs or sorted(FIXTURES.glob("*.wav")):
        samples = read_int16(path)
        features = log_mel(samples)
        clips[str(path.resolve()) if args.wavs else path.name] = {
            "samples": int(samples.shape[0]),
            "shape": list(features.shape),
            "data": [round(float(v), 6) for v in features.reshape(-1)],
        }
    args.out.write_text(json.dumps({"tensorflow": tf.__version__, "clips": clips}, separators=(",", ":")) + "\n")
    print(f"wrote {len(clips)} clips to {args.out}")


if __name__ == "__main__":
    main()
