import { StreamingResampler } from '../audio/resample.js';
import { WavFileReader } from '../audio/wav.js';
import { BeeError } from '../errors.js';
import { PcmDecoder, type PcmFormat } from './pcm.js';

/** Where a stream's samples go, and whether to stop before the input ends (Ctrl-C). */
export interface StreamSink {
  push(samples: Float32Array): void;
  stopped?: () => boolean;
}

/** Blocks read between yields to the event loop, so that a signal is seen during a long file. */
const BLOCKS_BETWEEN_YIELDS = 64;

/**
 * A WAV file, any length, a block of about `blockSeconds` at a time from disk (bounded memory),
 * resampled as it goes to `rate`, into the sink. Returns the samples pushed.
 */
export async function feedWavFile(file: string, rate: number, sink: StreamSink, blockSeconds = 0.1): Promise<number> {
  const reader = WavFileReader.open(file);
  let pushed = 0;
  const push = (samples: Float32Array) => {
    pushed += samples.length;
    sink.push(samples);
  };
  try {
    const resampler = new StreamingResampler(reader.info.sampleRate, rate);
    const frames = Math.max(1, Math.round(blockSeconds * reader.info.sampleRate));
    let blocks = 0;
    for (let block = reader.read(frames); block; block = reader.read(frames)) {
      push(resampler.push(block));
      if (++blocks % BLOCKS_BETWEEN_YIELDS === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        if (sink.stopped?.()) return pushed;
      }
    }
    push(resampler.end());
  } finally {
    reader.close();
  }
  return pushed;
}

/**
 * Raw PCM from a byte stream (stdin), one chunk at a time: while a chunk is processed the pipe
 * fills and the source waits, so nothing piles up. A WAV file's header is refused (pass the file
 * itself). Returns the stray bytes of a partial sample frame at the end.
 */
export async function feedPcm(chunks: AsyncIterable<Uint8Array>, format: PcmFormat, channels: number, sink: StreamSink): Promise<number> {
  const decoder = new PcmDecoder(format, channels);
  let first = true;
  for await (const chunk of chunks) {
    if (first && Buffer.from(chunk.subarray(0, 4)).toString('latin1') === 'RIFF')
      throw new BeeError('stdin holds a WAV file, not raw PCM', { hint: 'pass the file itself: bee listen FILE.wav (or arecord -t raw)' });
    first = false;
    sink.push(decoder.decode(chunk));
    if (sink.stopped?.()) break;
  }
  return decoder.strayBytes;
}
