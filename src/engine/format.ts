import { BeeError } from '../errors.js';
import { dataRecordProblem } from '../data/record.js';
import { featureParamsProblem, frameCount, type FeatureParams } from '../features/params.js';
import { labelsProblem, TEMPERATURE_RANGE, temperatureFits } from '../spec/labels.js';
import { ARCH_NAMES, type Body, bodyFilters, familyOf, stemFilters } from '../spec/families.js';
import { pooledFeatures } from '../spec/exit-grid.js';
import type { ExitHead, NetworkConfig } from '../spec/network-config.js';
import { type StreamRule, streamRuleProblem } from '../spec/stream-rule.js';
import type { ModelMeta } from '../spec/model-meta.js';
import { crc32 } from './crc32.js';

/**
 * The packed model file (.bee), version 7; docs/packed-format.md describes it byte by byte.
 * Files are written in the oldest version that holds them: 2 (the bee and xnor blocks), 3 (exit
 * heads with a hidden layer), 5 (the residual families, bireal and reactnet), 6 (exits that
 * average the softmax of the exits before them), 7 (... with the geometric mean).
 * Version 1 files (bee before the pooled exit head and real first-block weights) and version 4
 * files (residual, each binary kernel's scale folded into its BatchNorm) still load.
 *
 *   0  "BEEP"                 magic
 *   4  u32 version            2, 3, 5, 6 or 7: the oldest that holds the model
 *   8  u32 header bytes (H)   UTF-8 JSON: labels, features, network, temperatures, data, stream, ensemble, ensembleMean, beeVersion
 *  12  u32 body bytes (B)
 *  16  header, zero-padded to a multiple of 16 bytes
 *      body: the tensors of tensorSpecs(network) in order, little-endian, each padded to 4 bytes
 *  end u32 CRC-32 of every byte before it
 */
export const PACKED_MAGIC = 'BEEP';
export const PACKED_VERSION = 7;
const READABLE_VERSIONS = [1, 2, 3, 4, 5, 6, 7];
const PREAMBLE = 16;

type PackedDtype = 'uint32' | 'int16' | 'float32';
export type PackedArray = Uint32Array | Int16Array | Float32Array;

export interface TensorSpec {
  name: string;
  dtype: PackedDtype;
  shape: number[];
}

export interface PackedHeader {
  labels: string[];
  features: FeatureParams;
  network: PackedNetwork;
  /** softmax temperature per exit (1 where uncalibrated) */
  temperatures: number[];
  /** what the model was trained on, as in its bee.json, so evaluation can default to it */
  data?: ModelMeta['data'];
  /** how it listens to streams (bee listen --calibrate); absent: the default rule */
  stream?: StreamRule;
  /**
   * per exit, how many exits ending at it its answer averages the softmax of (1: its own alone;
   * absent: 1 at every exit); since version 6
   */
  ensemble?: number[];
  /**
   * how an ensemble's answer combines its exits' softmax: their arithmetic mean (absent: as
   * version 6), or their geometric mean renormalized, which is the softmax of the mean of their
   * tempered logits (since version 7)
   */
  ensembleMean?: EnsembleMean;
  beeVersion: string;
}

/** What the engine needs of the network's shape; the rest (BatchNorm, scales, shifts) is folded into the tensors. */
export type PackedNetwork = Pick<NetworkConfig, 'inputShape' | 'classes' | 'filters' | 'exitHead' | 'realFirstBlock' | 'scaledKernels' | 'signShift'> & {
  /** absent before version 4: bee */
  arch?: NetworkConfig['arch'];
};

/** What a version 1 file's network was: the paper's head, every convolution binary. */
const VERSION1_NETWORK = { exitHead: { type: 'paper' } as ExitHead, realFirstBlock: false, scaledKernels: false, signShift: false };

/** Statistics per channel that an exit head's dense layer reads: the max, or the pooled head's. */
export const headFeatures = (head: ExitHead) => (head.type === 'pooled' ? pooledFeatures(head.grid) : 1);
/** Units of the exit heads' hidden ReLU layer; 0: none. */
export const hiddenUnits = (head: ExitHead) => (head.type === 'pooled' ? (head.hidden ?? 0) : 0);

export interface PackedModel {
  header: PackedHeader;
  tensors: Map<string, PackedArray>;
}

/** Words of 32 bits that hold `bits` bits. */
export const words = (bits: number) => Math.ceil(bits / 32);

/** Every tensor of a packed network, in file order: its body's (a family's body decides the layout). */
export const tensorSpecs = (network: PackedNetwork, version = PACKED_VERSION): TensorSpec[] => BODY_SPECS[familyOf(network).body](network, version);

/**
 * The block body's tensors (bee, xnor). Binary kernels are sign bits packed along the
 * input channels, [output channel][tap][input word]; the (1x1) conv reads the concatenated (1x3)
 * and (3x1) outputs, each segment starting on a word. The first block's pair, whose input is the
 * real log-mel, keeps float32 kernels [output channel][tap] (±1, scaled ±1, or real weights; in
 * version 1 files, sign bits). A BatchNorm + sign becomes a threshold and a flip bit per channel
 * (float for the first block's pair; integer elsewhere). The block's last BatchNorm also keeps a
 * scale and a shift: the exit head reads its real output.
 */
function blockSpecs(network: PackedNetwork, version: number): TensorSpec[] {
  const specs: TensorSpec[] = [];
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const inputWords = b === 1 ? 1 : words(network.filters[i - 1]);
    for (const conv of ['conv1x3', 'conv3x1']) {
      if (b === 1 && version >= 2) specs.push({ name: `block${b}.${conv}.kernel`, dtype: 'float32', shape: [f, 3] });
      else specs.push({ name: `block${b}.${conv}.signs`, dtype: 'uint32', shape: [f, 3, inputWords] });
      specs.push({ name: `block${b}.${conv}.thresholds`, dtype: b === 1 ? 'float32' : 'int16', shape: [f] });
      specs.push({ name: `block${b}.${conv}.flips`, dtype: 'uint32', shape: [words(f)] });
    }
    specs.push({ name: `block${b}.conv1x1.signs`, dtype: 'uint32', shape: [f, 1, 2 * words(f)] });
    specs.push({ name: `block${b}.bn.thresholds`, dtype: 'int16', shape: [f] });
    specs.push({ name: `block${b}.bn.flips`, dtype: 'uint32', shape: [words(f)] });
    for (const p of ['scale', 'shift']) specs.push({ name: `block${b}.bn.${p}`, dtype: 'float32', shape: [f] });
    specs.push(...exitSpecs(network, b, f));
  });
  return specs;
}

/** Exit b's dense layers: [inputs][units] float32 kernels and their biases. */
function exitSpecs(network: PackedNetwork, b: number, f: number): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const hidden = hiddenUnits(network.exitHead);
  if (hidden) {
    specs.push({ name: `exit${b}.hidden.kernel`, dtype: 'float32', shape: [headFeatures(network.exitHead) * f, hidden] });
    specs.push({ name: `exit${b}.hidden.bias`, dtype: 'float32', shape: [hidden] });
  }
  specs.push({ name: `exit${b}.kernel`, dtype: 'float32', shape: [hidden || headFeatures(network.exitHead) * f, network.classes] });
  specs.push({ name: `exit${b}.bias`, dtype: 'float32', shape: [network.classes] });
  return specs;
}

/**
 * The residual families' tensors (version 5): per stage of C input and f output channels, the
 * stem's real (3x3) kernel [C][tap] (stage 1); the downsampling (1x1) convolution: its sign's
 * threshold per input channel (RSign's shift, else 0), its sign bits [f][1][words(C)], its
 * kernel scale alpha per output channel (1 where plain ±1), its BatchNorm as scale and shift
 * (version 4: no alpha, which the scale holds folded in); a real shortcut's
 * kernel [C][f] and BatchNorm (bireal; reactnet's repeats channels, with nothing to store); then
 * the (1x3) and (3x1) convolutions of f channels alike; RPReLU's gamma, slope and zeta after
 * every sum where the family has it (reactnet).
 */
function residualSpecs(network: PackedNetwork, version: number): TensorSpec[] {
  const specs: TensorSpec[] = [];
  const { rprelu, shortcut } = familyOf(network);
  const floats = (name: string, n: number) => specs.push({ name, dtype: 'float32', shape: [n] });
  const affine = (name: string, n: number) => {
    for (const p of ['scale', 'shift']) floats(`${name}.${p}`, n);
  };
  const binaryAffine = (name: string, n: number) => {
    if (version >= 5) floats(`${name}.alpha`, n);
    affine(name, n);
  };
  const rp = (name: string, n: number) => {
    if (rprelu) for (const p of ['gamma', 'slope', 'zeta']) floats(`${name}.rprelu.${p}`, n);
  };
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const c = bodyFilters(network, b);
    if (b === 1) {
      specs.push({ name: 'block1.stem.kernel', dtype: 'float32', shape: [stemFilters(network), 9] });
      affine('block1.stem', c);
    }
    floats(`block${b}.conv1x1.threshold`, c);
    specs.push({ name: `block${b}.conv1x1.signs`, dtype: 'uint32', shape: [f, 1, words(c)] });
    binaryAffine(`block${b}.conv1x1`, f);
    if (shortcut === 'conv') {
      specs.push({ name: `block${b}.shortcut.kernel`, dtype: 'float32', shape: [c, f] });
      affine(`block${b}.shortcut`, f);
    }
    rp(`block${b}`, f);
    for (const conv of ['conv1x3', 'conv3x1']) {
      floats(`block${b}.${conv}.threshold`, f);
      specs.push({ name: `block${b}.${conv}.signs`, dtype: 'uint32', shape: [f, 3, words(f)] });
      binaryAffine(`block${b}.${conv}`, f);
      rp(`block${b}.${conv}`, f);
    }
    specs.push(...exitSpecs(network, b, f));
  });
  return specs;
}

const BODY_SPECS: Record<Body, (network: PackedNetwork, version: number) => TensorSpec[]> = { block: blockSpecs, residual: residualSpecs };

export type EnsembleMean = 'arithmetic' | 'geometric';
export const ENSEMBLE_MEANS: EnsembleMean[] = ['arithmetic', 'geometric'];

/** Whether an ensemble makes any exit answer with more than its own softmax (version 6). */
export const averagesExits = (ensemble: number[] | undefined): ensemble is number[] => ensemble?.some((n) => n > 1) ?? false;

/**
 * The oldest format version that holds a model: geometric ensembles came in 7, ensembles of exits
 * in 6, the residual bodies in 4 (5: alpha apart), hidden layers in 3. An older bee would answer
 * otherwise (each exit alone, or with the arithmetic mean), so it must refuse the file.
 */
export function writtenVersion({ network, ensemble, ensembleMean }: Pick<PackedHeader, 'network' | 'ensemble' | 'ensembleMean'>): number {
  if (averagesExits(ensemble)) return ensembleMean === 'geometric' ? 7 : 6;
  if (familyOf(network).body === 'residual') return 5;
  return hiddenUnits(network.exitHead) ? 3 : 2;
}

const ARRAYS = { uint32: Uint32Array, int16: Int16Array, float32: Float32Array } as const;
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Where each tensor starts in the body, and the body's length: fixed by the network alone. */
function placements(specs: TensorSpec[]): { offsets: number[]; bodyBytes: number } {
  let at = 0;
  const offsets = specs.map((spec) => {
    const offset = at;
    at = align(at + size(spec.shape) * ARRAYS[spec.dtype].BYTES_PER_ELEMENT, 4);
    return offset;
  });
  return { offsets, bodyBytes: at };
}

/** Where everything of a file with this header goes; its size follows from the header alone. */
function fileLayout(packedHeader: PackedHeader) {
  const specs = tensorSpecs(packedHeader.network);
  const { offsets, bodyBytes } = placements(specs);
  const header = new TextEncoder().encode(JSON.stringify(packedHeader));
  const bodyStart = PREAMBLE + align(header.length, 16);
  return { specs, offsets, bodyBytes, header, bodyStart, fileBytes: bodyStart + bodyBytes + 4 };
}

/** The size of the file a model with this header packs to, without packing it. */
export function packedSize(header: PackedHeader): number {
  return fileLayout(header).fileBytes;
}

/** The file's bytes. Deterministic: the same model packs to the same bytes. */
export function encodePacked(model: PackedModel): Uint8Array {
  const { specs, offsets, bodyBytes, header, bodyStart, fileBytes } = fileLayout(model.header);
  const bytes = new Uint8Array(fileBytes);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(PACKED_MAGIC), 0);
  // the oldest version that holds the model, so that older bees read what they can run
  view.setUint32(4, writtenVersion(model.header), true);
  view.setUint32(8, header.length, true);
  view.setUint32(12, bodyBytes, true);
  bytes.set(header, PREAMBLE);
  specs.forEach((spec, i) => {
    const data = model.tensors.get(spec.name);
    if (!data || !(data instanceof ARRAYS[spec.dtype]) || data.length !== size(spec.shape)) {
      throw new Error(`packed tensor ${spec.name}: expected ${spec.dtype} ${JSON.stringify(spec.shape)}`);
    }
    // Typed arrays are little-endian on every platform Node runs on.
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), bodyStart + offsets[i]);
  });
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const positiveIntegers = (x: unknown, max: number) => Array.isArray(x) && x.length > 0 && x.every((v) => Number.isInteger(v) && v > 0 && v <= max);

/** What is wrong with a parsed header of a file of that version, if anything: every field the engine and the CLI read. */
function headerProblem(header: unknown, version: number): string | undefined {
  if (!isObject(header)) return 'not a JSON object';
  const { labels, features, network, temperatures, data, stream, ensemble, ensembleMean } = header;
  const labelsWrong = labelsProblem(labels);
  if (labelsWrong) return labelsWrong;
  const featuresWrong = featureParamsProblem(features);
  if (featuresWrong) return featuresWrong;
  if (!isObject(network) || !positiveIntegers(network.filters, 4096) || network.classes !== (labels as string[]).length)
    return 'network must hold filters (whole numbers > 0) and classes (the number of labels)';
  if (!['realFirstBlock', 'scaledKernels', 'signShift'].every((k) => typeof network[k] === 'boolean'))
    return 'network must say realFirstBlock, scaledKernels and signShift (true or false)';
  if (network.arch !== undefined && !ARCH_NAMES.includes(network.arch as never)) return `network.arch must be one of ${ARCH_NAMES.join(', ')}`;
  if (version < 4 && familyOf(network as unknown as PackedNetwork).body === 'residual')
    return `a version ${version} file cannot hold a ${network.arch} network`;
  const [frames, melBins] = [frameCount(features as unknown as FeatureParams), (features as unknown as FeatureParams).melBins];
  const shape = network.inputShape;
  if (!(Array.isArray(shape) && shape.length === 3 && shape[0] === frames && shape[1] === melBins && shape[2] === 1))
    return `network.inputShape must be [${frames}, ${melBins}, 1], what the features give`;
  const blocks = (network.filters as number[]).length;
  if (blocks > 6 || frames >> blocks < 1 || melBins >> blocks < 1)
    return `network.filters: ${blocks} blocks halve the ${frames} x ${melBins} input to nothing (at most 6 blocks)`;
  const head = network.exitHead;
  const last = (network.filters as number[]).length;
  const gridFits = (grid: unknown) =>
    Array.isArray(grid) && grid.length === 2 && positiveIntegers(grid, Infinity) && grid[0] <= frames >> last && grid[1] <= melBins >> last;
  const hiddenFits = (hidden: unknown) => hidden === undefined || (Number.isInteger(hidden) && (hidden as number) >= 0 && (hidden as number) <= 4096);
  if (!(isObject(head) && (head.type === 'paper' || (head.type === 'pooled' && gridFits(head.grid) && hiddenFits(head.hidden))))) {
    return `network.exitHead must be {"type":"paper"} or {"type":"pooled","grid":[rows,columns],"hidden":units} with a grid that fits the last block's ${frames >> last} x ${melBins >> last} positions and 0-4096 hidden units`;
  }
  if (!Array.isArray(temperatures) || temperatures.length !== (network.filters as number[]).length || !temperatures.every(temperatureFits))
    return `temperatures must be one number in [${TEMPERATURE_RANGE.join(', ')}] per exit`;
  if (data !== undefined) {
    const dataWrong = dataRecordProblem(data);
    if (dataWrong) return dataWrong;
  }
  if (
    ensemble !== undefined &&
    !(Array.isArray(ensemble) && ensemble.length === blocks && ensemble.every((n, i) => Number.isInteger(n) && n >= 1 && n <= i + 1))
  )
    return 'ensemble must be one whole number per exit, from 1 to the number of exits up to it';
  if (version < 6 && averagesExits(ensemble as number[] | undefined)) return `a version ${version} file cannot hold an ensemble of exits`;
  if (ensembleMean !== undefined && !ENSEMBLE_MEANS.includes(ensembleMean as EnsembleMean))
    return `ensembleMean must be ${ENSEMBLE_MEANS.map((m) => `"${m}"`).join(' or ')}`;
  if (version < 7 && ensembleMean === 'geometric') return `a version ${version} file cannot hold a geometric ensemble`;
  if (stream !== undefined) return streamRuleProblem(stream, (network.filters as number[]).length);
  return undefined;
}

/** Parses and checks a packed file: magic, version, length, checksum, then every tensor's name, type and shape. */
export function decodePacked(bytes: Uint8Array, file?: string): PackedModel {
  const fail = (reason: string, hint = 'export it again with bee export') => new BeeError(reason, { file, hint });
  if (bytes.length < PREAMBLE + 4 || new TextDecoder().decode(bytes.subarray(0, 4)) !== PACKED_MAGIC) {
    throw fail('not a bee packed model (no "BEEP" magic)', 'bee export --model DIR --out FILE.bee makes one');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (!READABLE_VERSIONS.includes(version))
    throw fail(
      `packed format version ${version}; this bee reads versions ${READABLE_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_VERSIONS.at(-1)}`,
      'export it with this version of bee',
    );
  const headerBytes = view.getUint32(8, true);
  const bodyBytes = view.getUint32(12, true);
  const bodyStart = PREAMBLE + align(headerBytes, 16);
  const expected = bodyStart + bodyBytes + 4;
  if (bytes.length !== expected)
    throw fail(`${bytes.length < expected ? 'truncated' : 'has trailing bytes'}: ${bytes.length} bytes, the header says ${expected}`);
  if (view.getUint32(bytes.length - 4, true) !== crc32(bytes.subarray(0, bytes.length - 4))) throw fail('checksum mismatch: the file is corrupted');

  let header: PackedHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerBytes)));
  } catch (err) {
    throw fail(`unreadable header: ${(err as Error).message}`);
  }
  if (version === 1 && isObject(header) && isObject(header.network)) header = { ...header, network: { ...header.network, ...VERSION1_NETWORK } };
  const problem = headerProblem(header, version);
  if (problem) throw fail(`bad header: ${problem}`);
  const { network } = header;
  const specs = tensorSpecs(network, version);
  const { offsets, bodyBytes: expectedBody } = placements(specs);
  if (bodyBytes !== expectedBody) throw fail(`the body has ${bodyBytes} bytes; this network's tensors take ${expectedBody}`);
  const tensors = new Map<string, PackedArray>();
  specs.forEach((spec, i) => {
    const start = bodyStart + offsets[i];
    // A copy (a Buffer's slice would be a view): aligned for its type wherever the file's bytes sit in memory.
    const copy = new Uint8Array(bytes.subarray(start, start + size(spec.shape) * ARRAYS[spec.dtype].BYTES_PER_ELEMENT));
    tensors.set(spec.name, new ARRAYS[spec.dtype](copy.buffer));
  });
  // A threshold may be +/-Infinity (a channel whose sign is constant); nothing may be NaN.
  for (const [name, values] of tensors) {
    const ok = name.endsWith('.thresholds') ? (x: number) => !Number.isNaN(x) : Number.isFinite;
    if (values instanceof Float32Array && !values.every(ok))
      throw fail(`tensor ${name} holds NaN or infinite values`, 'retrain the model: its weights diverged');
  }
  if (version === 1) upgradeFirstBlock(tensors, network.filters[0]);
  if (version === 4) unitScales(tensors);
  return { header, tensors };
}

/** A version 4 residual file's binary convolutions have their kernel scale in their BatchNorm's: alpha 1. */
function unitScales(tensors: Map<string, PackedArray>): void {
  for (const [name, scale] of [...tensors]) {
    if (/^block\d+\.conv(1x1|1x3|3x1)\.scale$/.test(name)) tensors.set(name.replace(/scale$/, 'alpha'), new Float32Array(scale.length).fill(1));
  }
}

/** A version 1 file's first-block sign bits as the ±1 float32 kernels version 2 stores. */
function upgradeFirstBlock(tensors: Map<string, PackedArray>, f: number): void {
  for (const conv of ['conv1x3', 'conv3x1']) {
    const signs = tensors.get(`block1.${conv}.signs`) as Uint32Array;
    tensors.delete(`block1.${conv}.signs`);
    tensors.set(
      `block1.${conv}.kernel`,
      Float32Array.from({ length: f * 3 }, (_, i) => (signs[i] & 1 ? 1 : -1)),
    );
  }
}
