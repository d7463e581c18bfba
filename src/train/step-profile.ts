import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from '../model/batch-norm.js';
import { ChannelTile } from '../model/channel-tile.js';
import { ExitPooling } from '../model/exit-pooling.js';
import { QuantActivation, QuantConv2D, QuantDense } from '../model/layers.js';
import { RPReLU } from '../model/rprelu.js';
import { FUSED_STAGE_SCOPE } from './fused-stage.js';

/** Where a training step's time goes: native TensorFlow ops by part of the network, forward and backward. */
export interface StepProfile {
  /** wall time of a step, ms (mean over the profiled steps) */
  stepMs: number;
  /** in native ops, ms per step; the rest is JavaScript: tfjs's bookkeeping, the tape, dispatch */
  opsMs: number;
  opsPerStep: number;
  parts: { part: string; forwardMs: number; backwardMs: number; calls: number }[];
  /** the most expensive (part, phase, op) rows */
  topOps: { part: string; phase: Phase; op: string; ms: number; calls: number }[];
}

type Phase = 'forward' | 'backward' | 'after';

/** The part of the network a layer is, for the profile's rows. */
function partOf(layer: tf.layers.Layer): string {
  if (layer instanceof QuantConv2D) return layer.binaryKernel ? 'binary convolutions' : 'real convolutions';
  if (layer instanceof BatchNorm) return 'BatchNorm';
  if (layer instanceof QuantActivation) return 'signs (STE)';
  if (layer instanceof RPReLU) return 'RPReLU';
  if (layer instanceof ChannelTile || layer.getClassName() === 'AveragePooling2D') return 'shortcuts';
  if (layer.getClassName() === 'MaxPooling2D') return 'max pooling';
  if (layer.getClassName() === 'Add') return 'residual sums';
  if (layer instanceof ExitPooling || layer instanceof QuantDense || layer.getClassName() === 'GlobalMaxPooling2D') return 'exit heads';
  return layer.getClassName();
}

/** The part of the network a native op of a fused stage (src/train/fused-stage.ts) or a kernel's quantizer is, by the op's name. */
function partOfOp(op: string): string | undefined {
  if (/^(Conv2D|BeeScaledSign)/.test(op)) return 'binary convolutions';
  if (op.startsWith('FusedBatchNorm')) return 'BatchNorm';
  if (op.startsWith('BeeSteSign')) return 'signs (STE)';
  if (op.startsWith('BeeResidual')) return 'residual units';
  if (/^(MaxPool|BeeMaxPool2Grad)/.test(op)) return 'max pooling';
  if (op.startsWith('BeeAvgPool2Tile')) return 'shortcuts';
  return undefined;
}

/** tfjs-core internals the profile hooks into: the engine's tape and scopes, tfjs-node's op calls. */
interface EngineInternals {
  state: { scopeStack: { name: string }[]; activeTape: { gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor> }[] };
  addTapeNode(...args: unknown[]): void;
}
type Execute = (this: unknown, ...args: unknown[]) => unknown;

/**
 * Runs `step` `steps` times with every native op timed (tfjs-node runs them synchronously, so the
 * time around a call is the op's) and attributed to the layer whose forward call, or whose tape
 * node's gradient, ran it; ops outside any layer are the loss and metrics (forward), the gradient
 * sums of tensors read twice (backward) and the optimizer with the weight clip (after); reads of
 * results to JavaScript are host copies. Needs the
 * native backend. Everything hooked is restored afterwards.
 */
export function profileSteps(model: tf.LayersModel, step: () => void, steps: number): StepProfile {
  if (tf.getBackend() !== 'tensorflow') throw new Error('the step profile needs the native backend (tfjs-node)');
  const engine = tf.engine() as unknown as EngineInternals;
  const proto = Object.getPrototypeOf(tf.backend()) as Record<'executeSingleOutput' | 'executeMultipleOutputs' | 'readSync', Execute>;
  let part: string | undefined;
  const within =
    <A extends unknown[], R>(owner: string | undefined, f: (...a: A) => R) =>
    (...a: A): R => {
      const outer = part;
      part = owner;
      try {
        return f(...a);
      } finally {
        part = outer;
      }
    };

  const restore: (() => void)[] = [];
  for (const layer of model.layers) {
    const call = layer.call;
    layer.call = within(partOf(layer), call.bind(layer));
    restore.push(() => {
      layer.call = call;
    });
  }
  const addTapeNode = engine.addTapeNode;
  engine.addTapeNode = (...args: unknown[]) => {
    addTapeNode.apply(engine, args);
    const node = engine.state.activeTape.at(-1)!;
    const gradient = node.gradient;
    // A gradient returns thunks that backprop calls later: each runs as its layer too.
    if (gradient)
      node.gradient = within(part, (dys: tf.Tensor[]) =>
        Object.fromEntries(Object.entries(gradient(dys)).map(([input, thunk]) => [input, within(part, thunk)])),
      );
  };
  restore.push(() => {
    engine.addTapeNode = addTapeNode;
  });

  const rows = new Map<string, { part: string; phase: Phase; op: string; ms: number; calls: number }>();
  for (const method of ['executeSingleOutput', 'executeMultipleOutputs', 'readSync'] as const) {
    const run = proto[method];
    proto[method] = function (this: unknown, ...args: unknown[]) {
      const scopes = engine.state.scopeStack.map((s) => s.name);
      const phase: Phase = scopes.includes('backward') ? 'backward' : scopes.includes('forward') ? 'forward' : 'after';
      const name = method === 'readSync' ? 'read to host' : String(args[0]);
      const fused = scopes.includes(FUSED_STAGE_SCOPE);
      const where =
        method === 'readSync'
          ? 'host copies'
          : (part ??
            // a fused stage's other ops update the BatchNorms' moving statistics
            (fused || name.startsWith('BeeScaledSign') ? (partOfOp(name) ?? 'BatchNorm') : undefined) ??
            (phase === 'forward' ? 'loss and metrics' : phase === 'backward' ? 'gradient sums' : 'optimizer and clip'));
      const started = performance.now();
      const result = run.apply(this, args);
      const key = `${where}|${phase}|${name}`;
      const row = rows.get(key) ?? { part: where, phase, op: name, ms: 0, calls: 0 };
      row.ms += performance.now() - started;
      row.calls++;
      rows.set(key, row);
      return result;
    };
    restore.push(() => {
      proto[method] = run;
    });
  }

  let stepMs: number;
  try {
    const started = performance.now();
    for (let i = 0; i < steps; i++) step();
    stepMs = (performance.now() - started) / steps;
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  const perStep = [...rows.values()].map((r) => ({ ...r, ms: r.ms / steps, calls: r.calls / steps }));
  const parts = new Map<string, StepProfile['parts'][number]>();
  for (const r of perStep) {
    const p = parts.get(r.part) ?? { part: r.part, forwardMs: 0, backwardMs: 0, calls: 0 };
    if (r.phase === 'forward') p.forwardMs += r.ms;
    else p.backwardMs += r.ms;
    p.calls += r.calls;
    parts.set(r.part, p);
  }
  return {
    stepMs,
    opsMs: perStep.reduce((s, r) => s + r.ms, 0),
    opsPerStep: perStep.reduce((s, r) => s + r.calls, 0),
    parts: [...parts.values()].sort((a, b) => b.forwardMs + b.backwardMs - (a.forwardMs + a.backwardMs)),
    topOps: perStep.sort((a, b) => b.ms - a.ms).slice(0, 12),
  };
}

/** The profile as a table for a terminal. */
export function formatProfile(p: StepProfile): string {
  const ms = (v: number) => v.toFixed(1).padStart(9);
  const share = (v: number) => `${((100 * v) / p.stepMs).toFixed(0)}%`.padStart(6);
  const lines = [`${'where'.padEnd(22)}${'forward'.padStart(9)}${'backward'.padStart(9)}${'total'.padStart(9)} share  (ms per step)`];
  for (const r of p.parts)
    lines.push(`${r.part.padEnd(22)}${ms(r.forwardMs)}${ms(r.backwardMs)}${ms(r.forwardMs + r.backwardMs)}${share(r.forwardMs + r.backwardMs)}`);
  const js = p.stepMs - p.opsMs;
  lines.push(`${'JavaScript (tfjs)'.padEnd(22)}${''.padStart(18)}${ms(js)}${share(js)}`);
  lines.push(`${'step'.padEnd(22)}${''.padStart(18)}${ms(p.stepMs)}  (${p.opsPerStep.toFixed(0)} native ops)`);
  lines.push('', 'most expensive ops:');
  for (const o of p.topOps) lines.push(`  ${o.op.padEnd(24)} ${o.part.padEnd(20)} ${o.phase.padEnd(8)} ${ms(o.ms)} ms  x${o.calls.toFixed(0)}`);
  return lines.join('\n');
}
