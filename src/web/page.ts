// The web page: bee's own log-mel features and packed engine on the microphone (an AudioWorklet
// in a 16 kHz AudioContext: the browser resamples) or on a dropped WAV file, window by window,
// as `bee listen` runs them; and "add a word", which trains new exit heads on recorded examples
// in a worker (train-worker.ts) and swaps the model. Served by `bee web`; bundled by scripts/build-web.mjs.
import { engineFor } from '../engine/engine-for.js';
import { decodePacked, type PackedModel } from '../engine/format.js';
import { useKernelModule } from '../engine/wasm-kernels.js';
import { useSpectrumModule } from '../features/spectrum.js';
import { QUIET_LABELS } from '../spec/labels.js';
import { exitCosts } from '../spec/network-cost.js';
import type { Detection, WindowAnswer } from '../stream/detector.js';
import { Listener } from '../stream/listener.js';
import { defaultStreamRule, exitRuleOf } from '../spec/stream-rule.js';
import { detectionRuleOf } from '../stream/detector.js';
import { wordWindows } from '../transfer/word-windows.js';
import type { TrainReply, TrainRequest } from './train-worker.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const strip = $<HTMLCanvasElement>('strip');
const EXIT_COLORS = ['#2ca02c', '#98df8a', '#ffbb78', '#d62728'];

/** The model the page runs and what listens with it; "add a word" replaces both. */
interface Running {
  model: PackedModel;
  listener: () => Listener;
}

let kernels: WebAssembly.Module;
let spectrum: WebAssembly.Module;
let running: Running;
/** the model whose body "add a word" learns new words on (bee web --base), fetched when first needed */
let base: Uint8Array | undefined;
/** the live microphone's listener, and what a recording in progress has heard */
let live: Listener | undefined;
let recording: Float32Array[] | undefined;
let heardSamples = 0;
/** the microphone's level over the last tenth of a second, shown beside the clock */
let levelSum = 0;
let levelSamples = 0;

function use(bytes: Uint8Array, name: string): void {
  const model = decodePacked(bytes, name);
  const engine = engineFor(model);
  const { features, labels } = model.header;
  // the model's stream rule, as bee listen runs it
  const streamRule = model.header.stream ?? defaultStreamRule(engine.exits);
  const rule = exitRuleOf(streamRule, labels);
  const detection = detectionRuleOf(streamRule);
  const costs = exitCosts(model.header.network).map((e) => e.relativeMacs);
  running = {
    model,
    listener: () =>
      new Listener(engine, labels, features, {
        exitCosts: costs,
        hopMs: 100,
        rule,
        holdWindows: streamRule.holdWindows,
        detection,
        onWindow: drawExit,
        onDetection: show,
      }),
  };
  if (live) live = running.listener();
  $('model').textContent =
    `${name}: ${labels.length} classes (${labels.filter((l) => !QUIET_LABELS.includes(l)).join(', ')}), ${model.header.network.arch ?? 'bee'} network, ${engine.exits} exits`;
}

async function main(): Promise<void> {
  const [wasm, spectrumWasm, model] = await Promise.all([fetchBytes('kernels.wasm'), fetchBytes('spectrum.wasm'), fetchBytes('model.bee')]);
  [kernels, spectrum] = await Promise.all([WebAssembly.compile(wasm), WebAssembly.compile(spectrumWasm)]);
  useKernelModule(kernels);
  useSpectrumModule(spectrum);
  use(model, 'model.bee');
  const rate = running.model.header.features.sampleRate;
  status.textContent = 'ready';

  const start = $<HTMLButtonElement>('start');
  start.disabled = false;
  start.onclick = () =>
    reporting(async () => {
      start.disabled = true;
      try {
        const context = new AudioContext({ sampleRate: rate });
        await context.audioWorklet.addModule('worklet.js');
        const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
        const capture = new AudioWorkletNode(context, 'bee-capture');
        live = running.listener();
        capture.port.onmessage = (e: MessageEvent<Float32Array>) => {
          live?.push(e.data);
          recording?.push(e.data);
          heardSamples += e.data.length;
          for (const x of e.data) levelSum += x * x;
          levelSamples += e.data.length;
          if (levelSamples >= rate / 10) {
            const db = 10 * Math.log10(levelSum / levelSamples + 1e-10);
            $('clock').textContent = `${(heardSamples / rate).toFixed(2)} s heard, level ${db.toFixed(0)} dB`;
            [levelSum, levelSamples] = [0, 0];
          }
        };
        context.createMediaStreamSource(stream).connect(capture);
        status.textContent = `listening at ${context.sampleRate} Hz`;
        for (const id of ['record-word', 'record-background', 'record-other']) $<HTMLButtonElement>(id).disabled = false;
      } catch (err) {
        start.disabled = false;
        throw err;
      }
    });

  const drop = $('drop');
  drop.ondragover = (e) => {
    e.preventDefault();
    drop.classList.add('over');
  };
  drop.ondragleave = () => drop.classList.remove('over');
  drop.ondrop = (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const dropped = e.dataTransfer?.files[0];
    if (dropped) reporting(() => runFile(dropped, rate, running.listener()));
  };
  const pick = $<HTMLInputElement>('pick');
  pick.onchange = () => {
    const picked = pick.files?.[0];
    if (picked) reporting(() => runFile(picked, rate, running.listener()));
  };
  addWords(rate);
}

/**
 * "Add a word": record a word said several times (each 1 s window around a loud stretch is an
 * example), a few seconds of the room, optionally other speech; train; listen with the result.
 */
function addWords(rate: number): void {
  const words = new Map<string, Float32Array[]>();
  const noise: Float32Array[] = [];
  const unknown: Float32Array[] = [];
  const examples = $('examples');
  const train = $<HTMLButtonElement>('train-words');
  const listExamples = () => {
    examples.textContent = '';
    const rows = [
      ...[...words].map(([w, clips]) => `${w}: ${clips.length} examples`),
      `background: ${seconds(noise)} s`,
      `other speech: ${seconds(unknown)} s`,
    ];
    for (const row of rows) examples.appendChild(document.createElement('li')).textContent = row;
    train.disabled = words.size === 0;
  };
  const seconds = (clips: Float32Array[]) => (clips.reduce((n, c) => n + c.length, 0) / rate).toFixed(1);
  const recordButtons = ['record-word', 'record-background', 'record-other'].map((id) => $<HTMLButtonElement>(id));
  /** A toggle: the first press starts recording (the other record buttons wait), the second ends it and hands over what was heard. */
  const recorder = (id: string, done: (samples: Float32Array) => void) => {
    const button = $<HTMLButtonElement>(id);
    const label = button.textContent;
    button.onclick = () => {
      if (!recording) {
        recording = [];
        button.textContent = 'stop recording';
        for (const other of recordButtons) other.disabled = other !== button;
        return;
      }
      const chunks = recording;
      recording = undefined;
      button.textContent = label;
      for (const other of recordButtons) other.disabled = false;
      const samples = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) {
        samples.set(c, at);
        at += c.length;
      }
      reporting(async () => {
        done(samples);
        listExamples();
      });
    };
  };
  recorder('record-word', (samples) => {
    const word = $<HTMLInputElement>('new-word').value.trim().toLowerCase();
    if (!/^[\p{L}\p{N}][\p{L}\p{N} '-]{0,31}$/u.test(word) || QUIET_LABELS.includes(word)) throw new Error('type the word first (letters, digits, spaces)');
    const found = wordWindows(samples, rate, { max: 20 });
    if (found.length === 0) throw new Error(`no word heard in ${(samples.length / rate).toFixed(1)} s: say it louder, with pauses`);
    words.set(word, [...(words.get(word) ?? []), ...found]);
    status.textContent = `${word}: ${found.length} examples heard`;
  });
  recorder('record-background', (samples) => noise.push(samples));
  recorder('record-other', (samples) => unknown.push(samples));
  listExamples();

  train.onclick = () =>
    reporting(async () => {
      train.disabled = true;
      try {
        base ??= await fetchBytes('base.bee');
        const bytes = await trainInWorker({ kernels, spectrum, model: base, words: [...words], noise, unknown });
        use(bytes, 'custom.bee');
        const download = $<HTMLButtonElement>('download');
        download.onclick = () => {
          const link = document.createElement('a');
          link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
          link.download = 'custom.bee';
          link.click();
          setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
        };
        download.hidden = false;
        $('download-note').hidden = false;
        status.textContent = live ? 'listening with your words' : 'trained: start the microphone to listen';
      } finally {
        train.disabled = false;
      }
    });
}

/** Trains in train-worker.js; shows its progress; resolves with the new model's bytes. */
function trainInWorker(request: TrainRequest): Promise<Uint8Array> {
  const worker = new Worker('train-worker.js', { type: 'module' });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<TrainReply>) => {
      const reply = e.data;
      if ('progress' in reply) {
        const { phase, done, total } = reply.progress;
        status.textContent = `training: ${phase} ${done}/${total}`;
        return;
      }
      worker.terminate();
      if ('error' in reply) reject(new Error(reply.error));
      else resolve(reply.model);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message));
    };
    worker.postMessage(request);
  });
}

/** A file bee web serves; a failed answer is an error, not bytes. */
async function fetchBytes(route: string): Promise<Uint8Array<ArrayBuffer>> {
  const answer = await fetch(route);
  if (!answer.ok) throw new Error(`${route}: ${answer.status} ${answer.statusText} (is bee web still running?)`);
  return new Uint8Array(await answer.arrayBuffer());
}

/** Runs an action of the page; a failure is shown on it, not lost in the console. */
function reporting(action: () => Promise<void>): void {
  action().catch((err: Error) => {
    status.textContent = `bee: ${err.message}`;
  });
}

/** A dropped or picked recording: decoded, resampled to the model's rate and mixed to mono by the browser, then fed as a stream. */
async function runFile(file: File, rate: number, run: Listener): Promise<void> {
  const bytes = await file.arrayBuffer();
  const probe = new OfflineAudioContext(1, 1, rate);
  const decoded = await probe.decodeAudioData(bytes);
  const mono = new OfflineAudioContext(1, Math.ceil(decoded.duration * rate), rate);
  const source = mono.createBufferSource();
  source.buffer = decoded;
  source.connect(mono.destination);
  source.start();
  const samples = (await mono.startRendering()).getChannelData(0);
  for (let at = 0; at < samples.length; at += rate / 10) run.push(samples.subarray(at, at + rate / 10));
  const found = run.detections.map((d) => `${d.time.toFixed(1)} s ${d.label}`).join(', ');
  status.textContent = `${file.name}: ${(samples.length / rate).toFixed(1)} s, ${run.detections.length} detections${found ? `: ${found}` : ''}`;
}

function show(d: Detection): void {
  $('word').textContent = d.label;
  $('meta').textContent = `confidence ${d.confidence.toFixed(2)}, exit ${d.exit}`;
  const item = document.createElement('li');
  item.textContent = `${d.time.toFixed(1)} s: ${d.label} (${d.confidence.toFixed(2)}, exit ${d.exit})`;
  $('log').prepend(item);
}

/** The strip: one column a window, coloured by the exit that answered (green: exit 1 ... red: exit 4). */
function drawExit(answer: WindowAnswer): void {
  const g = strip.getContext('2d')!;
  g.drawImage(strip, -3, 0);
  g.fillStyle = EXIT_COLORS[Math.min(answer.exit, EXIT_COLORS.length) - 1];
  const h = (strip.height * answer.exit) / EXIT_COLORS.length;
  g.clearRect(strip.width - 3, 0, 3, strip.height);
  g.fillRect(strip.width - 3, strip.height - h, 3, h);
}

reporting(main);
