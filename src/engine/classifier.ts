import { featuresOf } from '../data/feature-cache.js';
import type { EarlyExitClassifier, EarlyExitResult, FeatureRows } from '../spec/classifier.js';
import { neverEarly, type ExitRule } from '../spec/exit-rules.js';
import type { Engine } from './engine.js';

/** The packed engine behind the interface `bee eval` and `bee predict` use; copies what the engine reuses. */
export class PackedClassifier implements EarlyExitClassifier {
  constructor(readonly engine: Engine) {}

  get exits(): number {
    return this.engine.exits;
  }

  get temperatures(): number[] {
    return this.engine.temperatures;
  }

  set temperatures(temperatures: number[]) {
    this.engine.temperatures = temperatures;
  }

  classify(features: Float32Array, rule: ExitRule): EarlyExitResult {
    const started = performance.now();
    const exit = this.engine.run(features, rule);
    const ms = performance.now() - started;
    return { exit, probs: this.engine.probabilities.slice(0, exit).map((p) => p.slice()), ms };
  }

  exitOutputs(table: FeatureRows, rows: number[], what: 'softmax' | 'logits' = 'softmax'): Float32Array[] {
    const classes = this.engine.labels.length;
    const outputs = Array.from({ length: this.exits }, () => new Float32Array(rows.length * classes));
    const never = neverEarly(this.exits);
    rows.forEach((row, i) => {
      this.engine.run(featuresOf(table, row), never);
      for (const [k, out] of outputs.entries()) out.set(what === 'softmax' ? this.engine.probabilities[k] : this.engine.logits[k], i * classes);
    });
    return outputs;
  }

  dispose(): void {}
}
