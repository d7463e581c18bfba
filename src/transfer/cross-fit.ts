import { fitTemperature } from '../spec/temperature.js';
import { fitHead, type HeadFitOptions, headLogits } from './head-fit.js';

/**
 * Each exit's softmax temperature for a custom model, by cross-fitting: a user's few clips leave
 * no validation split, and heads score their own examples (augmented copies of the same clips)
 * near-perfectly, so temperatures fit on them would only sharpen. Instead the head is fit again
 * on the examples of the even-numbered sources of each class (a clip and all its copies go
 * together), and T minimizes the cross-entropy of that head on the odd-numbered sources' examples:
 * clips it has not heard, as the user's next words will be. Temperatures are 1 where some class
 * has a single source (one clip a word: nothing to hold out). On the training split's speakers
 * this lets the early exits leave when they are right and stay when they are unsure: at k = 10
 * the compute the sweep needs within 1 point of exit 4 drops from 0.83 to 0.75 (arithmetic
 * pairs) and from 0.75 to 0.68 (geometric pairs; docs/custom-words.md). The fit is one head an
 * exit even where the model's heads are bags of them: the bags were measured so, and one head
 * takes a third of the time.
 */
export function crossFitTemperatures(
  statistics: Float32Array[],
  labels: Int32Array,
  sources: Int32Array,
  classes: number,
  head: HeadFitOptions,
  onExit?: (done: number) => void,
): number[] {
  const fold = (parity: number) => Array.from(labels.keys()).filter((i) => sources[i] % 2 === parity);
  const [fitOn, scoreOn] = [fold(0), fold(1)];
  const classesOf = (rows: number[]) => new Set(rows.map((i) => labels[i])).size;
  if (classesOf(fitOn) < classes || classesOf(scoreOn) < classes) return statistics.map(() => 1);
  return statistics.map((x, k) => {
    const inputs = x.length / labels.length;
    const rows = (which: number[]) => {
      const picked = new Float32Array(which.length * inputs);
      for (const [r, i] of which.entries()) picked.set(x.subarray(i * inputs, (i + 1) * inputs), r * inputs);
      return picked;
    };
    const { weights } = fitHead(
      rows(fitOn),
      inputs,
      Int32Array.from(fitOn, (i) => labels[i]),
      classes,
      { ...head, heads: 1, seed: head.seed + k },
    );
    const t = fitTemperature(
      headLogits(weights, rows(scoreOn), scoreOn.length),
      Int32Array.from(scoreOn, (i) => labels[i]),
      classes,
    );
    onExit?.(k + 1);
    return t;
  });
}
