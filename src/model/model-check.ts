import * as tf from '@tensorflow/tfjs';
import { featureParamsProblem, frameCount, type FeatureParams } from '../features/params.js';
import type { BeeError } from '../errors.js';
import { dataRecordProblem } from '../data/record.js';
import { streamRuleProblem } from '../spec/stream-rule.js';
import { labelsProblem, TEMPERATURE_RANGE, temperatureFits } from '../spec/labels.js';
import { buildNetwork, checkNetwork, type NetworkConfig } from './network.js';
import { MAX_STAGES, stageCountProblem, stageWidthsFit } from '../spec/network-config.js';
import { bodyKernelWeights } from '../spec/network-cost.js';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * What is wrong with a model directory's bee.json (its network config completed), if anything:
 * labels, feature parameters, a network those features can feed, calibration.
 */
export function metaProblem(meta: {
  labels?: unknown;
  features?: unknown;
  network?: unknown;
  calibration?: unknown;
  stream?: unknown;
  data?: unknown;
}): string | undefined {
  const { labels, features, network, calibration, stream, data } = meta;
  const labelsWrong = labelsProblem(labels);
  if (labelsWrong) return labelsWrong;
  const featuresWrong = featureParamsProblem(features);
  if (featuresWrong) return featuresWrong;
  if (!isObject(network)) return 'network must be an object';
  const n = network as unknown as NetworkConfig;
  const p = features as FeatureParams;
  const count = (labels as string[]).length;
  if (n.classes !== count) return `network.classes is ${n.classes}, and there are ${count} labels`;
  const shape = n.inputShape as unknown;
  if (!(Array.isArray(shape) && shape.length === 3 && shape[0] === frameCount(p) && shape[1] === p.melBins && shape[2] === 1))
    return `network.inputShape must be [${frameCount(p)}, ${p.melBins}, 1], what the features give`;
  if (!['binary', 'float'].includes(n.precision)) return 'network.precision must be binary or float';
  if (!(Array.isArray(n.filters) && stageWidthsFit(n.filters))) return `network.filters must be 1-${MAX_STAGES} whole numbers in 1..4096`;
  const tooMany = stageCountProblem(n.filters.length, frameCount(p), p.melBins);
  if (tooMany) return tooMany;
  if (!(Number.isInteger(n.seed) && n.seed >= 0)) return 'network.seed must be a whole number >= 0';
  if (!['realFirstBlock', 'scaledKernels', 'signShift'].every((k) => typeof network[k] === 'boolean'))
    return 'network.realFirstBlock, scaledKernels and signShift must be true or false';
  const head = n.exitHead as unknown;
  if (!(isObject(head) && (head.type === 'paper' || (head.type === 'pooled' && Array.isArray(head.grid) && head.grid.length === 2))))
    return 'network.exitHead must be {"type":"paper"} or {"type":"pooled","grid":[rows,columns]}';
  try {
    checkNetwork(n); // the momentum, the grid and the hidden layer, as bee train checks them
  } catch (err) {
    return (err as BeeError).reason ?? String(err);
  }
  if (calibration !== undefined) {
    const t = isObject(calibration) ? calibration.temperatures : undefined;
    if (!(Array.isArray(t) && t.length === n.filters.length && t.every(temperatureFits)))
      return `calibration.temperatures must be one number in [${TEMPERATURE_RANGE.join(', ')}] per exit`;
  }
  if (data !== undefined) {
    const dataWrong = dataRecordProblem(data);
    if (dataWrong) return dataWrong;
  }
  if (stream !== undefined) return streamRuleProblem(stream, n.filters.length);
  return undefined;
}

/**
 * What is wrong with a loaded model against the network its bee.json describes, if anything: the
 * same layers' weights, of the same shapes (so labels, filters and features agree with model.json
 * and weights.bin), all finite.
 */
export function modelProblem(model: tf.LayersModel, network: NetworkConfig): string | undefined {
  // Before building bee.json's network to compare: its convolutions alone must fit in the weights
  // that were loaded, so that an edited bee.json cannot make bee build a huge network to refuse it.
  const loaded = model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  const kernels = bodyKernelWeights(network);
  if (kernels > loaded) return `bee.json's network has at least ${kernels} weights; model.json and the weights hold ${loaded}`;
  const expected = buildNetwork(network);
  try {
    const want = expected.weights.map((w) => `${w.originalName} ${JSON.stringify(w.shape)}`);
    const have = model.weights.map((w) => `${w.originalName} ${JSON.stringify(w.shape)}`);
    const differs = want.findIndex((w, i) => w !== have[i]);
    if (differs >= 0 || want.length !== have.length) {
      const at = differs >= 0 ? differs : Math.min(want.length, have.length);
      return `model.json does not match bee.json's network: weight ${at + 1} is ${have[at] ?? 'missing'}, bee.json's network has ${want[at] ?? 'none'}`;
    }
  } finally {
    expected.dispose();
  }
  const bad = nonFiniteWeight(model);
  if (bad) return `weight ${bad.originalName} holds NaN or infinite values`;
  return undefined;
}

/** The first weight holding NaN or an infinity, if any. */
export function nonFiniteWeight(model: tf.LayersModel): tf.LayerVariable | undefined {
  return model.weights.find((w) => tf.tidy(() => tf.all(tf.isFinite(w.read())).dataSync()[0] === 0));
}
