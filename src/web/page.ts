// The web page: bee's own log-mel features and packed engine on the microphone (an AudioWorklet
// in a 16 kHz AudioContext: the browser resamples) or on a dropped WAV file, window by window,
// as `bee listen` runs them. Served by `bee web`; bundled by scripts/build-web.mjs.
import { engineFor } from '../engine/engine-for.js';
import { decodePacked } from '../engine/format.js';
import { useKernelModule } from '../engine/wasm-kernels.js';
import { QUIET_LABELS, type Detection, type WindowAnswer } from '../stream/detector.js';
import { Listener } from '../stream/listener.js';
import { defaultStreamRule, detectionRuleOf, exitRuleOf } from '../stream/stream-rule.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status');
const strip = $<HTMLCanvasElement>('strip');
const EXIT_COLORS = ['#2ca02c', '#98df8a', '#ffbb78', '#d62728'];

async function main(): Promise<void> {
  const [wasm, file] = await Promise.all([fetch('kernels.wasm'), fetch('model.bee')]);
  useKernelModule(await WebAssembly.compile(await wasm.arrayBuffer()));
  const model = decodePacked(new Uint8Array(await file.arrayBuffer()), 'model.bee');
  const engine = engineFor(model);
  const { features } = model.header;
  const rate = features.sampleRate;
  const classifier = {
    classify: (x: Float32Array, rule: Parameters<typeof engine.run>[1]) => {
      const exit = engine.run(x, rule);
      // the engine reuses its buffers from window to window
      return { exit, probs: engine.probabilities.slice(0, exit).map((p) => p.slice()), ms: 0 };
    },
  };
  // the model's stream rule, as bee listen runs it
  const streamRule = model.header.stream ?? defaultStreamRule(engine.exits);
  const rule = exitRuleOf(streamRule, model.header.labels);
  const detection = detectionRuleOf(streamRule);
  const listener = () =>
    new Listener(classifier, model.header.labels, features, { exits: engine.exits, hopMs: 100, rule, detection, onWindow: drawExit, onDetection: show });
  status.textContent = `model: ${model.header.labels.length} classes (${model.header.labels.filter((l) => !QUIET_LABELS.includes(l)).join(', ')}), ${model.header.network.arch ?? 'bee'} network, ${engine.exits} exits`;

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
        const live = listener();
        capture.port.onmessage = (e: MessageEvent<Float32Array>) => live.push(e.data);
        context.createMediaStreamSource(stream).connect(capture);
        status.textContent = `listening at ${context.sampleRate} Hz`;
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
    if (dropped) reporting(() => runFile(dropped, rate, listener()));
  };
}

/** Runs an action of the page; a failure is shown on it, not lost in the console. */
function reporting(action: () => Promise<void>): void {
  action().catch((err: Error) => {
    status.textContent = `bee: ${err.message}`;
  });
}

/** A dropped recording: decoded, resampled to the model's rate and mixed to mono by the browser, then fed as a stream. */
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
  status.textContent = `${file.name}: ${(samples.length / rate).toFixed(1)} s, ${run.detections.length} detections`;
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
