/**
 * Temperature scaling: the T > 0 that minimizes the negative log-likelihood of softmax(logits / T)
 * on held-out examples, found by golden-section search on log T in [ln 0.05, ln 20] (the NLL is
 * convex in 1/T; Guo et al., 2017). Calibrated exits make one threshold mean the same confidence
 * at every exit. logits [n][classes].
 */
export function fitTemperature(logits: ArrayLike<number>, labels: Int32Array, classes: number): number {
  const nll = (t: number) => {
    let sum = 0;
    for (let i = 0; i < labels.length; i++) {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[i * classes + c] / t);
      let z = 0;
      for (let c = 0; c < classes; c++) z += Math.exp(logits[i * classes + c] / t - max);
      sum += max + Math.log(z) - logits[i * classes + labels[i]] / t;
    }
    return sum / labels.length;
  };
  const golden = (Math.sqrt(5) - 1) / 2;
  let [a, b] = [Math.log(0.05), Math.log(20)];
  let c = b - golden * (b - a);
  let d = a + golden * (b - a);
  let fc = nll(Math.exp(c));
  let fd = nll(Math.exp(d));
  while (b - a > 1e-5) {
    if (fc < fd) {
      [b, d, fd] = [d, c, fc];
      c = b - golden * (b - a);
      fc = nll(Math.exp(c));
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + golden * (b - a);
      fd = nll(Math.exp(d));
    }
  }
  return Math.exp((a + b) / 2);
}
