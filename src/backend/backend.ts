import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { fusedOps } from './fused-ops.js';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  backend: BackendName;
  /** Why a faster backend could not be used (absent on the native backend). */
  fallbackReason?: string;
  threads: number;
  versions: Record<string, string>;
  /** Where the native library came from, and when bee's fused kernels were built (scripts/install-native.mjs records it). */
  native?: Record<string, unknown>;
  /** Whether glibc malloc keeps big blocks on the heap (the launcher sets it; ~3x faster training). */
  mallocTuned: boolean;
  /** Whether bee's fused training kernels run (native backend, built by scripts/install-native.mjs). */
  fusedOps: boolean;
}

const require = createRequire(import.meta.url);
let current: BackendInfo | undefined;

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}

function nativeProvenance(): Record<string, unknown> | undefined {
  try {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    const file = path.join(dir, 'deps', 'bee-native.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
    return { source: "tfjs-node's own install" };
  } catch {
    return undefined;
  }
}

async function tryNative(): Promise<string | undefined> {
  try {
    require('@tensorflow/tfjs-node');
    await tf.setBackend('tensorflow');
    return undefined;
  } catch (err) {
    const message = firstLine(err);
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && message.includes("'@tensorflow/tfjs-node'")) {
      return '@tensorflow/tfjs-node is not installed';
    }
    return `native TensorFlow did not load (${message}); rebuild it with: npm run native`;
  }
}

async function tryWasm(): Promise<string | undefined> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return 'the wasm backend failed to initialize';
    return undefined;
  } catch (err) {
    return `the wasm backend did not load (${firstLine(err)})`;
  }
}

const BACKENDS: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/**
 * Selects the fastest backend this machine has: native TensorFlow, else wasm, else pure JS; or the
 * one named (argument, else $BEE_BACKEND), with no fallback. The reason for any fallback is kept,
 * so the CLI can say it in one line. Idempotent.
 */
export async function initBackend(preferred = process.env.BEE_BACKEND as BackendName | undefined): Promise<BackendInfo> {
  if (preferred && !BACKENDS.includes(preferred)) {
    throw new BeeError(`unknown backend '${preferred}'`, { hint: `BEE_BACKEND must be one of ${BACKENDS.join(', ')}` });
  }
  if (current && (!preferred || preferred === current.backend)) return current;
  const order = preferred ? [preferred] : BACKENDS;
  const reasons: string[] = [];
  let backend: BackendName | undefined;
  for (const name of order) {
    const reason =
      name === 'tensorflow' ? await tryNative() : name === 'wasm' ? await tryWasm() : (await tf.setBackend('cpu')) ? undefined : 'cpu backend failed';
    if (reason === undefined) {
      backend = name;
      break;
    }
    reasons.push(reason);
  }
  if (!backend) throw new Error(`no TensorFlow.js backend could be initialized: ${reasons.join('; ')}`);
  await tf.ready();

  const versions: Record<string, string> = { 'tfjs-core': tf.version_core };
  let threads = 1;
  if (backend === 'tensorflow') {
    versions['tfjs-node'] = require('@tensorflow/tfjs-node/package.json').version;
    threads = os.availableParallelism(); // TensorFlow's default intra-op pool: one thread per core
  } else if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    versions['tfjs-backend-wasm'] = wasm.version_wasm;
    threads = wasm.getThreadsCount();
  }
  current = {
    backend,
    ...(reasons.length ? { fallbackReason: reasons.join('; ') } : {}),
    threads,
    versions,
    ...(backend === 'tensorflow' ? { native: nativeProvenance() } : {}),
    mallocTuned: process.env.MALLOC_MMAP_MAX_ === '0',
    fusedOps: fusedOps() !== undefined,
  };
  return current;
}
