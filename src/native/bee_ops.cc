// Fused TensorFlow kernels for training bee's binary networks on the native backend.
//
// In eager TensorFlow every elementwise op is a pass over memory and a dispatch from JavaScript:
// the STE sign before each binary convolution took 4 ops forward and 4 backward, RPReLU 8 and 12,
// and TensorFlow's generic MaxPoolGrad alone cost more than the 2x2 max pooling's convolution.
// Each op here is one pass that computes exactly what the composite ops computed (same float32
// roundings; the per-channel gradient sums are accumulated in double per fixed block of rows, so
// they are deterministic whatever the thread count). The library is also a Node addon: loading it
// with require() registers the ops in the process's TensorFlow, and tfjs-node runs them by name.
#include <cmath>
#include <vector>

#include <node_api.h>

// What src/backend/fused-ops.ts expects (FUSED_OPS_VERSION): bumped with every change to the ops.
#define BEE_OPS_VERSION 5

#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace bee {
using tensorflow::DEVICE_CPU;
using tensorflow::OpKernel;
using tensorflow::OpKernelConstruction;
using tensorflow::OpKernelContext;
using tensorflow::Tensor;
using tensorflow::errors::InvalidArgument;
using tensorflow::shape_inference::InferenceContext;

// Rows (positions) are cut into this many blocks whatever the thread count, so that sums per
// channel are added in the same order on every machine.
constexpr int64_t kBlocks = 32;

// Runs fn(begin_row, end_row, block) over rows in kBlocks blocks on TensorFlow's intra-op pool.
template <typename Fn>
void ForBlocks(OpKernelContext* ctx, int64_t rows, int64_t cost_per_row, Fn fn) {
  const int64_t blocks = std::max<int64_t>(1, std::min(rows, kBlocks));
  auto* pool = ctx->device()->tensorflow_cpu_worker_threads()->workers;
  pool->ParallelFor(blocks, cost_per_row * (rows / blocks + 1), [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; b++) fn(rows * b / blocks, rows * (b + 1) / blocks, b);
  });
}

// The channel count of x and the number of rows (positions) it has; checks a [C] vector.
bool Channels(OpKernelContext* ctx, const Tensor& x, const Tensor& v, int64_t* channels, int64_t* rows) {
  if (x.dims() < 1) {
    ctx->CtxFailure(InvalidArgument("input must have a channel axis"));
    return false;
  }
  *channels = x.dim_size(x.dims() - 1);
  if (v.dims() != 1 || v.dim_size(0) != *channels) {
    ctx->CtxFailure(InvalidArgument("per-channel vector must have ", *channels, " values"));
    return false;
  }
  *rows = *channels == 0 ? 0 : x.NumElements() / *channels;
  return true;
}

// Per-channel sums over rows r0..r1 of a block: `row(i, acc)` adds row i into float accumulators
// (vectorizable), which are moved into the block's double sums every kChunk rows.
constexpr int64_t kChunk = 64;
template <typename Row>
void SumRows(int64_t r0, int64_t r1, int64_t c, int sums, double* const* block_sums, Row row) {
  std::vector<float> acc(sums * c, 0.f);
  for (int64_t r = r0; r < r1; r += kChunk) {
    for (int64_t i = r; i < std::min(r + kChunk, r1); i++) row(i, acc.data());
    for (int j = 0; j < sums; j++)
      for (int64_t k = 0; k < c; k++) {
        block_sums[j][k] += acc[j * c + k];
        acc[j * c + k] = 0.f;
      }
  }
}

void SumBlocks(const std::vector<double>& partial, int64_t channels, float sign, float* out) {
  const int64_t blocks = partial.size() / std::max<int64_t>(channels, 1);
  for (int64_t c = 0; c < channels; c++) {
    double s = 0;
    for (int64_t b = 0; b < blocks; b++) s += partial[b * channels + c];
    out[c] = static_cast<float>(sign * s);
  }
}

// One row (position) of each kernel: plain loops over the channels, without branches, so that the
// compiler vectorizes them (a branch on the sign of random activations mispredicts half the time).
void SignRow(const float* __restrict x, const float* __restrict shift, float* __restrict y, int64_t c) {
  for (int64_t k = 0; k < c; k++) y[k] = x[k] - shift[k] >= 0.f ? 1.f : -1.f;
}

void SignGradRow(const float* __restrict dy, const float* __restrict x, const float* __restrict shift, float clip, float* __restrict dx,
                 float* __restrict sum, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const float d = std::fabs(x[k] - shift[k]) <= clip ? dy[k] : 0.f;
    dx[k] = d;
    sum[k] += d;
  }
}

void RPReLURow(const float* __restrict x, const float* __restrict gamma, const float* __restrict slope, const float* __restrict zeta,
               float* __restrict y, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const float t = x[k] - gamma[k];
    const float scaled = slope[k] * t;
    y[k] = (t > 0.f ? t : scaled) + zeta[k];
  }
}

void RPReLUGradRow(const float* __restrict dy, const float* __restrict x, const float* __restrict gamma, const float* __restrict slope,
                   float* __restrict dx, float* __restrict sum_dt, float* __restrict sum_slope, float* __restrict sum_dy, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const float t = x[k] - gamma[k];
    const float d = dy[k];
    const bool positive = t > 0.f;
    const float scaled = d * slope[k];
    const float dt = positive ? d : scaled;
    const float times = d * t;
    dx[k] = dt;
    sum_dt[k] += dt;
    sum_slope[k] += positive ? 0.f : times;
    sum_dy[k] += d;
  }
}

// A residual unit's elementwise tail in one pass: p = n + t (the BatchNorm's output and the
// shortcut); h = RPReLU(p); with kSign, s = sign(h - shift), the next convolution's input.
template <bool kSign>
void ResidualRow(const float* __restrict n, const float* __restrict t, const float* __restrict gamma, const float* __restrict slope,
                 const float* __restrict zeta, const float* __restrict shift, float* __restrict p, float* __restrict h,
                 float* __restrict s, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const float sum = n[k] + t[k];
    const float d = sum - gamma[k];
    const float scaled = slope[k] * d;
    const float y = (d > 0.f ? d : scaled) + zeta[k];
    p[k] = sum;
    h[k] = y;
    if (kSign) s[k] = y - shift[k] >= 0.f ? 1.f : -1.f;
  }
}

// Its gradient: the gradient at h is what came through the residual path (dh) plus, with kSign,
// the sign's straight-through share of ds; then RPReLU's gradient at p, as SignGradRow and
// RPReLUGradRow compute them (the same values, the same per-channel sums).
template <bool kSign>
void ResidualGradRow(const float* __restrict dh, const float* __restrict ds, const float* __restrict h, const float* __restrict shift,
                     float clip, const float* __restrict p, const float* __restrict gamma, const float* __restrict slope,
                     float* __restrict dp, float* __restrict sum_ds, float* __restrict sum_dt, float* __restrict sum_slope,
                     float* __restrict sum_dy, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    float g = dh[k];
    if (kSign) {
      const float through = std::fabs(h[k] - shift[k]) <= clip ? ds[k] : 0.f;
      sum_ds[k] += through;
      g = g + through;
    }
    const float t = p[k] - gamma[k];
    const bool positive = t > 0.f;
    const float scaled = g * slope[k];
    const float dt = positive ? g : scaled;
    const float times = g * t;
    dp[k] = dt;
    sum_dt[k] += dt;
    sum_slope[k] += positive ? 0.f : times;
    sum_dy[k] += g;
  }
}

// One 2x2 window per channel: dy goes to the first maximum in row-major order (later positions
// win only when strictly greater), as TensorFlow's MaxPoolGrad sends it.
void MaxPool2GradWindow(const float* __restrict a0, const float* __restrict b0, const float* __restrict a1, const float* __restrict b1,
                        const float* __restrict dy, float* __restrict da0, float* __restrict db0, float* __restrict da1,
                        float* __restrict db1, int64_t c) {
  for (int64_t k = 0; k < c; k++) {
    const bool second = b0[k] > a0[k];
    const float top = second ? b0[k] : a0[k];
    const bool third = a1[k] > top;
    const float top3 = third ? a1[k] : top;
    const bool fourth = b1[k] > top3;
    // Selects, not && (whose short circuit is control flow the vectorizer gives up on).
    const float d = dy[k];
    const float before4 = fourth ? 0.f : d;
    const float before3 = third ? 0.f : before4;
    db1[k] = fourth ? d : 0.f;
    da1[k] = third ? before4 : 0.f;
    db0[k] = second ? before3 : 0.f;
    da0[k] = second ? 0.f : before3;
  }
}

// y = sign(x - shift), sign(0) = +1: ReActNet's RSign (shift 0: a plain sign).
class SteSign : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& shift = ctx->input(1);
    int64_t c, rows;
    if (!Channels(ctx, x, shift, &c, &rows)) return;
    Tensor* y;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    const float* xs = x.flat<float>().data();
    const float* s = shift.flat<float>().data();
    float* ys = y->flat<float>().data();
    ForBlocks(ctx, rows, c, [&](int64_t r0, int64_t r1, int64_t) {
      for (int64_t i = r0 * c; i < r1 * c; i += c) SignRow(xs + i, s, ys + i, c);
    });
  }
};

// The straight-through gradient: dx = dy where |x - shift| <= clip, else 0; dshift = -sum dx.
class SteSignGrad : public OpKernel {
 public:
  explicit SteSignGrad(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("clip", &clip_)); }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    const Tensor& shift = ctx->input(2);
    int64_t c, rows;
    if (!Channels(ctx, x, shift, &c, &rows)) return;
    OP_REQUIRES(ctx, dy.shape() == x.shape(), InvalidArgument("dy and x must have one shape"));
    Tensor *dx, *dshift;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, shift.shape(), &dshift));
    const float* g = dy.flat<float>().data();
    const float* xs = x.flat<float>().data();
    const float* s = shift.flat<float>().data();
    float* out = dx->flat<float>().data();
    std::vector<double> partial(std::max<int64_t>(1, std::min(rows, kBlocks)) * c, 0.0);
    const float clip = clip_;
    ForBlocks(ctx, rows, 2 * c, [&](int64_t r0, int64_t r1, int64_t b) {
      double* sums[] = {partial.data() + b * c};
      SumRows(r0, r1, c, 1, sums, [&](int64_t r, float* acc) { SignGradRow(g + r * c, xs + r * c, s, clip, out + r * c, acc, c); });
    });
    SumBlocks(partial, c, -1.f, dshift->flat<float>().data());
  }

 private:
  float clip_;
};

// RPReLU: t = x - gamma; y = (t > 0 ? t : slope * t) + zeta.
class RPReLU : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    int64_t c, rows;
    for (int i = 1; i < 4; i++)
      if (!Channels(ctx, x, ctx->input(i), &c, &rows)) return;
    Tensor* y;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &y));
    const float* xs = x.flat<float>().data();
    const float* gamma = ctx->input(1).flat<float>().data();
    const float* slope = ctx->input(2).flat<float>().data();
    const float* zeta = ctx->input(3).flat<float>().data();
    float* ys = y->flat<float>().data();
    ForBlocks(ctx, rows, 2 * c, [&](int64_t r0, int64_t r1, int64_t) {
      for (int64_t i = r0 * c; i < r1 * c; i += c) RPReLURow(xs + i, gamma, slope, zeta, ys + i, c);
    });
  }
};

// RPReLU's gradients: dt = t > 0 ? dy : slope * dy; dx = dt, dgamma = -sum dt,
// dslope = sum over t <= 0 of dy * t, dzeta = sum dy.
class RPReLUGrad : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    int64_t c, rows;
    for (int i = 2; i < 4; i++)
      if (!Channels(ctx, x, ctx->input(i), &c, &rows)) return;
    OP_REQUIRES(ctx, dy.shape() == x.shape(), InvalidArgument("dy and x must have one shape"));
    Tensor *dx, *dgamma, *dslope, *dzeta;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, ctx->input(2).shape(), &dgamma));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, ctx->input(2).shape(), &dslope));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(3, ctx->input(2).shape(), &dzeta));
    const float* g = dy.flat<float>().data();
    const float* xs = x.flat<float>().data();
    const float* gamma = ctx->input(2).flat<float>().data();
    const float* slope = ctx->input(3).flat<float>().data();
    float* out = dx->flat<float>().data();
    const int64_t blocks = std::max<int64_t>(1, std::min(rows, kBlocks));
    std::vector<double> sum_dt(blocks * c, 0.0), sum_slope(blocks * c, 0.0), sum_dy(blocks * c, 0.0);
    ForBlocks(ctx, rows, 4 * c, [&](int64_t r0, int64_t r1, int64_t b) {
      double* sums[] = {sum_dt.data() + b * c, sum_slope.data() + b * c, sum_dy.data() + b * c};
      SumRows(r0, r1, c, 3, sums, [&](int64_t r, float* acc) {
        RPReLUGradRow(g + r * c, xs + r * c, gamma, slope, out + r * c, acc, acc + c, acc + 2 * c, c);
      });
    });
    SumBlocks(sum_dt, c, -1.f, dgamma->flat<float>().data());
    SumBlocks(sum_slope, c, 1.f, dslope->flat<float>().data());
    SumBlocks(sum_dy, c, 1.f, dzeta->flat<float>().data());
  }
};

// The gradient of a 2x2, stride-2, valid max pooling of NHWC x (MaxPool2GradWindow); the odd last
// row or column no window reads gets 0.
class MaxPool2Grad : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& dy = ctx->input(1);
    OP_REQUIRES(ctx, x.dims() == 4 && dy.dims() == 4, InvalidArgument("x and dy must be NHWC"));
    const int64_t n = x.dim_size(0), h = x.dim_size(1), w = x.dim_size(2), c = x.dim_size(3);
    const int64_t oh = h / 2, ow = w / 2;
    OP_REQUIRES(ctx, dy.dim_size(0) == n && dy.dim_size(1) == oh && dy.dim_size(2) == ow && dy.dim_size(3) == c,
                InvalidArgument("dy must be x's 2x2 pooling"));
    Tensor* dx;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    const float* xs = x.flat<float>().data();
    const float* g = dy.flat<float>().data();
    float* out = dx->flat<float>().data();
    // One task per (example, input row pair); a lone last row is zeroed with its pair.
    const int64_t pairs = (h + 1) / 2;
    auto* pool = ctx->device()->tensorflow_cpu_worker_threads()->workers;
    pool->ParallelFor(n * pairs, 8 * w * c, [&](int64_t first, int64_t last) {
      for (int64_t task = first; task < last; task++) {
        const int64_t e = task / pairs, i = task % pairs;
        float* row0 = out + ((e * h + 2 * i) * w) * c;
        if (i >= oh) {
          std::fill(row0, row0 + w * c, 0.f);
          continue;
        }
        float* row1 = row0 + w * c;
        const float* x0 = xs + ((e * h + 2 * i) * w) * c;
        const float* x1 = x0 + w * c;
        const float* gy = g + ((e * oh + i) * ow) * c;
        for (int64_t j = 0; j < ow; j++) {
          const int64_t at = 2 * j * c;
          MaxPool2GradWindow(x0 + at, x0 + at + c, x1 + at, x1 + at + c, gy + j * c, row0 + at, row0 + at + c, row1 + at, row1 + at + c, c);
        }
        if (w & 1) {
          std::fill(row0 + (w - 1) * c, row0 + w * c, 0.f);
          std::fill(row1 + (w - 1) * c, row1 + w * c, 0.f);
        }
      }
    });
  }
};

// A residual unit's tail (ResidualRow): inputs n, t, gamma, slope, zeta, shift; outputs p, h and,
// with the attr `sign`, s (else an empty tensor, and shift may be empty).
class Residual : public OpKernel {
 public:
  explicit Residual(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("sign", &sign_)); }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& n = ctx->input(0);
    const Tensor& t = ctx->input(1);
    OP_REQUIRES(ctx, n.shape() == t.shape(), InvalidArgument("n and t must have one shape"));
    int64_t c, rows;
    for (int i = 2; i < (sign_ ? 6 : 5); i++)
      if (!Channels(ctx, n, ctx->input(i), &c, &rows)) return;
    Tensor *p, *h, *s;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, n.shape(), &p));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, n.shape(), &h));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, sign_ ? n.shape() : tensorflow::TensorShape({0}), &s));
    const float *ns = n.flat<float>().data(), *ts = t.flat<float>().data();
    const float *gamma = ctx->input(2).flat<float>().data(), *slope = ctx->input(3).flat<float>().data();
    const float *zeta = ctx->input(4).flat<float>().data(), *shift = ctx->input(5).flat<float>().data();
    float *ps = p->flat<float>().data(), *hs = h->flat<float>().data(), *ss = s->flat<float>().data();
    ForBlocks(ctx, rows, 4 * c, [&](int64_t r0, int64_t r1, int64_t) {
      for (int64_t i = r0 * c; i < r1 * c; i += c) {
        if (sign_)
          ResidualRow<true>(ns + i, ts + i, gamma, slope, zeta, shift, ps + i, hs + i, ss + i, c);
        else
          ResidualRow<false>(ns + i, ts + i, gamma, slope, zeta, shift, ps + i, hs + i, nullptr, c);
      }
    });
  }

 private:
  bool sign_;
};

// Residual's gradient (ResidualGradRow): inputs dh, ds, h, shift, p, gamma, slope (ds, h and shift
// empty without `sign`); outputs dp (which is also the gradient of n and of t), dgamma, dslope,
// dzeta and dshift (empty without `sign`).
class ResidualGrad : public OpKernel {
 public:
  explicit ResidualGrad(OpKernelConstruction* ctx) : OpKernel(ctx) {
    OP_REQUIRES_OK(ctx, ctx->GetAttr("sign", &sign_));
    OP_REQUIRES_OK(ctx, ctx->GetAttr("clip", &clip_));
  }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& dh = ctx->input(0);
    const Tensor& p = ctx->input(4);
    OP_REQUIRES(ctx, dh.shape() == p.shape(), InvalidArgument("dh and p must have one shape"));
    if (sign_)
      OP_REQUIRES(ctx, ctx->input(1).shape() == p.shape() && ctx->input(2).shape() == p.shape(), InvalidArgument("ds, h and p must have one shape"));
    int64_t c, rows;
    for (int i : {5, 6, 3})
      if ((i != 3 || sign_) && !Channels(ctx, p, ctx->input(i), &c, &rows)) return;
    const tensorflow::TensorShape vector({c});
    Tensor *dp, *dgamma, *dslope, *dzeta, *dshift;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, p.shape(), &dp));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, vector, &dgamma));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, vector, &dslope));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(3, vector, &dzeta));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(4, sign_ ? vector : tensorflow::TensorShape({0}), &dshift));
    const float *g = dh.flat<float>().data(), *ds = ctx->input(1).flat<float>().data(), *h = ctx->input(2).flat<float>().data();
    const float *shift = ctx->input(3).flat<float>().data(), *ps = p.flat<float>().data();
    const float *gamma = ctx->input(5).flat<float>().data(), *slope = ctx->input(6).flat<float>().data();
    float* out = dp->flat<float>().data();
    const int64_t blocks = std::max<int64_t>(1, std::min(rows, kBlocks));
    std::vector<double> sum_ds(blocks * c, 0.0), sum_dt(blocks * c, 0.0), sum_slope(blocks * c, 0.0), sum_dy(blocks * c, 0.0);
    const float clip = clip_;
    ForBlocks(ctx, rows, 6 * c, [&](int64_t r0, int64_t r1, int64_t b) {
      double* sums[] = {sum_dt.data() + b * c, sum_slope.data() + b * c, sum_dy.data() + b * c, sum_ds.data() + b * c};
      SumRows(r0, r1, c, 4, sums, [&](int64_t r, float* acc) {
        const int64_t i = r * c;
        if (sign_)
          ResidualGradRow<true>(g + i, ds + i, h + i, shift, clip, ps + i, gamma, slope, out + i, acc + 3 * c, acc, acc + c, acc + 2 * c, c);
        else
          ResidualGradRow<false>(g + i, nullptr, nullptr, nullptr, clip, ps + i, gamma, slope, out + i, nullptr, acc, acc + c, acc + 2 * c, c);
      });
    });
    SumBlocks(sum_dt, c, -1.f, dgamma->flat<float>().data());
    SumBlocks(sum_slope, c, 1.f, dslope->flat<float>().data());
    SumBlocks(sum_dy, c, 1.f, dzeta->flat<float>().data());
    if (sign_) SumBlocks(sum_ds, c, -1.f, dshift->flat<float>().data());
  }

 private:
  bool sign_;
  float clip_;
};

// ReActNet's widening shortcut in one pass: the 2x2, stride-2, valid average pooling of NHWC x
// (each window summed in row-major order, then divided by 4, as TensorFlow's AvgPool does), its
// C channels repeated to `channels` (a multiple of C).
class AvgPool2Tile : public OpKernel {
 public:
  explicit AvgPool2Tile(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("channels", &channels_)); }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    OP_REQUIRES(ctx, x.dims() == 4, InvalidArgument("x must be NHWC"));
    const int64_t n = x.dim_size(0), h = x.dim_size(1), w = x.dim_size(2), c = x.dim_size(3), f = channels_;
    OP_REQUIRES(ctx, c > 0 && f % c == 0, InvalidArgument("channels must be a multiple of x's"));
    const int64_t oh = h / 2, ow = w / 2;
    Tensor* y;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, tensorflow::TensorShape({n, oh, ow, f}), &y));
    const float* xs = x.flat<float>().data();
    float* ys = y->flat<float>().data();
    auto* pool = ctx->device()->tensorflow_cpu_worker_threads()->workers;
    pool->ParallelFor(n * oh, 2 * ow * f, [&](int64_t first, int64_t last) {
      for (int64_t task = first; task < last; task++) {
        const int64_t e = task / oh, i = task % oh;
        const float* x0 = xs + ((e * h + 2 * i) * w) * c;
        const float* x1 = x0 + w * c;
        float* out = ys + task * ow * f;
        for (int64_t j = 0; j < ow; j++, out += f) {
          const float *x00 = x0 + 2 * j * c, *x01 = x00 + c, *x10 = x1 + 2 * j * c, *x11 = x10 + c;
          for (int64_t k = 0; k < c; k++) out[k] = (((x00[k] + x01[k]) + x10[k]) + x11[k]) / 4.f;
          for (int64_t copy = c; copy < f; copy += c) std::copy(out, out + c, out + copy);
        }
      }
    });
  }

 private:
  int64_t channels_;
};

// Its gradient, plus what else reached x: dx = addend + (the sum of dy's copies of the channel) / 4
// at each position of a window (addend alone in the odd last row or column no window reads).
class AvgPool2TileGrad : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& addend = ctx->input(1);
    OP_REQUIRES(ctx, dy.dims() == 4 && addend.dims() == 4, InvalidArgument("dy and addend must be NHWC"));
    const int64_t n = addend.dim_size(0), h = addend.dim_size(1), w = addend.dim_size(2), c = addend.dim_size(3);
    const int64_t oh = h / 2, ow = w / 2, f = dy.dim_size(3);
    OP_REQUIRES(ctx, dy.dim_size(0) == n && dy.dim_size(1) == oh && dy.dim_size(2) == ow && c > 0 && f % c == 0,
                InvalidArgument("dy must be the addend's 2x2 pooling, its channels repeated"));
    Tensor* dx;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, addend.shape(), &dx));
    const float* g = dy.flat<float>().data();
    const float* add = addend.flat<float>().data();
    float* out = dx->flat<float>().data();
    const int64_t pairs = (h + 1) / 2;
    auto* pool = ctx->device()->tensorflow_cpu_worker_threads()->workers;
    pool->ParallelFor(n * pairs, 6 * w * c, [&](int64_t first, int64_t last) {
      std::vector<float> quarter(c);
      for (int64_t task = first; task < last; task++) {
        const int64_t e = task / pairs, i = task % pairs;
        const int64_t at = ((e * h + 2 * i) * w) * c, rows = std::min<int64_t>(2, h - 2 * i);
        if (i >= oh) {
          std::copy(add + at, add + at + rows * w * c, out + at);
          continue;
        }
        for (int64_t j = 0; j < ow; j++) {
          const float* gy = g + ((e * oh + i) * ow + j) * f;
          for (int64_t k = 0; k < c; k++) quarter[k] = gy[k];
          for (int64_t copy = c; copy < f; copy += c)
            for (int64_t k = 0; k < c; k++) quarter[k] += gy[copy + k];
          for (int64_t k = 0; k < c; k++) quarter[k] /= 4.f;
          for (int64_t r = 0; r < 2; r++)
            for (int64_t q = 0; q < 2; q++) {
              const int64_t o = at + (r * w + 2 * j + q) * c;
              for (int64_t k = 0; k < c; k++) out[o + k] = add[o + k] + quarter[k];
            }
        }
        if (w & 1)
          for (int64_t r = 0; r < 2; r++) {
            const int64_t o = at + (r * w + w - 1) * c;
            std::copy(add + o, add + o + c, out + o);
          }
      }
    });
  }
};

// The gradient of the max over the positions of NHWC x, per example and channel (y, dy: N x C in
// any shape): dx = dy * (x == y ? 1 : 0), as tfjs's Max gradient computes it (every tie gets dy),
// in one pass instead of its Equal, Cast and Mul over x.
class SpatialMaxGrad : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    const Tensor& dy = ctx->input(2);
    OP_REQUIRES(ctx, x.dims() == 4, InvalidArgument("x must be NHWC"));
    const int64_t n = x.dim_size(0), positions = x.dim_size(1) * x.dim_size(2), c = x.dim_size(3);
    OP_REQUIRES(ctx, y.NumElements() == n * c && dy.NumElements() == n * c, InvalidArgument("y and dy must hold N x C values"));
    Tensor* dx;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, x.shape(), &dx));
    const float *xs = x.flat<float>().data(), *ys = y.flat<float>().data(), *g = dy.flat<float>().data();
    float* out = dx->flat<float>().data();
    ForBlocks(ctx, n * positions, 2 * c, [&](int64_t r0, int64_t r1, int64_t) {
      for (int64_t r = r0; r < r1; r++) {
        const int64_t e = r / positions;
        const float *top = ys + e * c, *d = g + e * c, *row = xs + r * c;
        float* o = out + r * c;
        for (int64_t k = 0; k < c; k++) o[k] = d[k] * (row[k] == top[k] ? 1.f : 0.f);
      }
    });
  }
};

// A magnitude-aware binary kernel (XNOR-Net's, Larq's magnitude_aware_sign): alpha_c * sign(w),
// sign(0) = +1, alpha_c = mean |w| over every axis but the last (output channels). Gradient: dy *
// alpha_c where |w| <= clip, else 0; alpha_c held constant (Larq stops its gradient). A kernel is
// small: these replace some twenty tiny ops per convolution (and their dispatch) with two.
class ScaledSign : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& w = ctx->input(0);
    OP_REQUIRES(ctx, w.dims() >= 1, InvalidArgument("kernel must have an output-channel axis"));
    const int64_t c = w.dim_size(w.dims() - 1), rows = c == 0 ? 0 : w.NumElements() / c;
    Tensor *y, *alpha;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, w.shape(), &y));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, tensorflow::TensorShape({c}), &alpha));
    const float* ws = w.flat<float>().data();
    float* a = alpha->flat<float>().data();
    float* ys = y->flat<float>().data();
    std::vector<double> sum(c, 0.0);
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < c; k++) sum[k] += std::fabs(ws[r * c + k]);
    for (int64_t k = 0; k < c; k++) a[k] = static_cast<float>(sum[k] / static_cast<double>(std::max<int64_t>(rows, 1)));
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < c; k++) ys[r * c + k] = ws[r * c + k] >= 0.f ? a[k] : -a[k];
  }
};

class ScaledSignGrad : public OpKernel {
 public:
  explicit ScaledSignGrad(OpKernelConstruction* ctx) : OpKernel(ctx) { OP_REQUIRES_OK(ctx, ctx->GetAttr("clip", &clip_)); }
  void Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& w = ctx->input(1);
    const Tensor& alpha = ctx->input(2);
    int64_t c, rows;
    if (!Channels(ctx, w, alpha, &c, &rows)) return;
    OP_REQUIRES(ctx, dy.shape() == w.shape(), InvalidArgument("dy and w must have one shape"));
    Tensor* dw;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, w.shape(), &dw));
    const float *g = dy.flat<float>().data(), *ws = w.flat<float>().data(), *a = alpha.flat<float>().data();
    float* out = dw->flat<float>().data();
    for (int64_t r = 0; r < rows; r++)
      for (int64_t k = 0; k < c; k++) {
        const int64_t i = r * c + k;
        out[i] = std::fabs(ws[i]) <= clip_ ? g[i] * a[k] : 0.f;
      }
  }

 private:
  float clip_;
};

// One Adam step of a variable, as tfjs's AdamOptimizer computes it op by op (each product, sum
// and quotient rounded to float32; compiled without FMA contraction):
//   m' = m * beta1 + g * (1 - beta1)         v' = v * beta2 + g^2 * (1 - beta2)
//   value' = (m' / c1) / (sqrt(v' / c2) + epsilon) * -lr + value
// with c1, c2 = 1 - beta1^t, 1 - beta2^t. Scalars come as [beta1, 1 - beta1, beta2, 1 - beta2, c1, c2, epsilon, -lr].
class Adam : public OpKernel {
 public:
  using OpKernel::OpKernel;
  void Compute(OpKernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    const Tensor& m = ctx->input(1);
    const Tensor& v = ctx->input(2);
    const Tensor& grad = ctx->input(3);
    const Tensor& scalars = ctx->input(4);
    OP_REQUIRES(ctx, m.shape() == value.shape() && v.shape() == value.shape() && grad.shape() == value.shape(),
                InvalidArgument("value, m, v and grad must have one shape"));
    OP_REQUIRES(ctx, scalars.NumElements() == 8, InvalidArgument("scalars must hold 8 values"));
    Tensor *out_value, *out_m, *out_v;
    OP_REQUIRES_OK(ctx, ctx->allocate_output(0, value.shape(), &out_value));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(1, value.shape(), &out_m));
    OP_REQUIRES_OK(ctx, ctx->allocate_output(2, value.shape(), &out_v));
    const float* k = scalars.flat<float>().data();
    AdamRange(value.flat<float>().data(), m.flat<float>().data(), v.flat<float>().data(), grad.flat<float>().data(), k,
              out_value->flat<float>().data(), out_m->flat<float>().data(), out_v->flat<float>().data(), value.NumElements());
  }

 private:
  static void AdamRange(const float* __restrict value, const float* __restrict m, const float* __restrict v, const float* __restrict g,
                        const float* k, float* __restrict out_value, float* __restrict out_m, float* __restrict out_v, int64_t n) {
    const float beta1 = k[0], one_minus_beta1 = k[1], beta2 = k[2], one_minus_beta2 = k[3], c1 = k[4], c2 = k[5], epsilon = k[6], step = k[7];
    for (int64_t i = 0; i < n; i++) {
      const float m1 = m[i] * beta1 + g[i] * one_minus_beta1;
      const float v1 = v[i] * beta2 + (g[i] * g[i]) * one_minus_beta2;
      out_m[i] = m1;
      out_v[i] = v1;
      out_value[i] = (m1 / c1) / (std::sqrt(v1 / c2) + epsilon) * step + value[i];
    }
  }
};

tensorflow::Status SameAsFirst(InferenceContext* c) {
  c->set_output(0, c->input(0));
  return tensorflow::Status();
}

REGISTER_OP("BeeSteSign").Input("x: float").Input("shift: float").Output("y: float").SetShapeFn(SameAsFirst);
REGISTER_OP("BeeSteSignGrad")
    .Input("dy: float")
    .Input("x: float")
    .Input("shift: float")
    .Attr("clip: float")
    .Output("dx: float")
    .Output("dshift: float")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(1));
      c->set_output(1, c->input(2));
      return tensorflow::Status();
    });
REGISTER_OP("BeeRPReLU").Input("x: float").Input("gamma: float").Input("slope: float").Input("zeta: float").Output("y: float").SetShapeFn(SameAsFirst);
REGISTER_OP("BeeRPReLUGrad")
    .Input("dy: float")
    .Input("x: float")
    .Input("gamma: float")
    .Input("slope: float")
    .Output("dx: float")
    .Output("dgamma: float")
    .Output("dslope: float")
    .Output("dzeta: float")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(1));
      for (int i = 1; i < 4; i++) c->set_output(i, c->input(2));
      return tensorflow::Status();
    });
REGISTER_OP("BeeAdam")
    .Input("value: float")
    .Input("m: float")
    .Input("v: float")
    .Input("grad: float")
    .Input("scalars: float")
    .Output("new_value: float")
    .Output("new_m: float")
    .Output("new_v: float")
    .SetShapeFn([](InferenceContext* c) {
      for (int i = 0; i < 3; i++) c->set_output(i, c->input(0));
      return tensorflow::Status();
    });
REGISTER_OP("BeeScaledSign").Input("w: float").Output("y: float").Output("alpha: float").SetShapeFn([](InferenceContext* c) {
  c->set_output(0, c->input(0));
  c->set_output(1, c->Vector(c->Dim(c->input(0), -1)));
  return tensorflow::Status();
});
REGISTER_OP("BeeScaledSignGrad").Input("dy: float").Input("w: float").Input("alpha: float").Attr("clip: float").Output("dw: float").SetShapeFn([](InferenceContext* c) {
  c->set_output(0, c->input(1));
  return tensorflow::Status();
});
REGISTER_OP("BeeMaxPool2Grad").Input("x: float").Input("dy: float").Output("dx: float").SetShapeFn(SameAsFirst);

REGISTER_OP("BeeResidual")
    .Input("n: float")
    .Input("t: float")
    .Input("gamma: float")
    .Input("slope: float")
    .Input("zeta: float")
    .Input("shift: float")
    .Attr("sign: bool")
    .Output("p: float")
    .Output("h: float")
    .Output("s: float")
    .SetShapeFn([](InferenceContext* c) {
      for (int i = 0; i < 3; i++) c->set_output(i, c->input(0));
      return tensorflow::Status();
    });
REGISTER_OP("BeeResidualGrad")
    .Input("dh: float")
    .Input("ds: float")
    .Input("h: float")
    .Input("shift: float")
    .Input("p: float")
    .Input("gamma: float")
    .Input("slope: float")
    .Attr("sign: bool")
    .Attr("clip: float")
    .Output("dp: float")
    .Output("dgamma: float")
    .Output("dslope: float")
    .Output("dzeta: float")
    .Output("dshift: float")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(4));
      for (int i = 1; i < 5; i++) c->set_output(i, c->input(5));
      return tensorflow::Status();
    });
REGISTER_OP("BeeAvgPool2Tile").Input("x: float").Attr("channels: int").Output("y: float").SetShapeFn([](InferenceContext* c) {
  c->set_output(0, c->UnknownShapeOfRank(4));
  return tensorflow::Status();
});
REGISTER_OP("BeeAvgPool2TileGrad").Input("dy: float").Input("addend: float").Output("dx: float").SetShapeFn([](InferenceContext* c) {
  c->set_output(0, c->input(1));
  return tensorflow::Status();
});

REGISTER_OP("BeeSpatialMaxGrad").Input("x: float").Input("y: float").Input("dy: float").Output("dx: float").SetShapeFn(SameAsFirst);

REGISTER_KERNEL_BUILDER(Name("BeeSteSign").Device(DEVICE_CPU), SteSign);
REGISTER_KERNEL_BUILDER(Name("BeeSteSignGrad").Device(DEVICE_CPU), SteSignGrad);
REGISTER_KERNEL_BUILDER(Name("BeeRPReLU").Device(DEVICE_CPU), RPReLU);
REGISTER_KERNEL_BUILDER(Name("BeeRPReLUGrad").Device(DEVICE_CPU), RPReLUGrad);
REGISTER_KERNEL_BUILDER(Name("BeeAdam").Device(DEVICE_CPU), Adam);
REGISTER_KERNEL_BUILDER(Name("BeeScaledSign").Device(DEVICE_CPU), ScaledSign);
REGISTER_KERNEL_BUILDER(Name("BeeScaledSignGrad").Device(DEVICE_CPU), ScaledSignGrad);
REGISTER_KERNEL_BUILDER(Name("BeeMaxPool2Grad").Device(DEVICE_CPU), MaxPool2Grad);
REGISTER_KERNEL_BUILDER(Name("BeeResidual").Device(DEVICE_CPU), Residual);
REGISTER_KERNEL_BUILDER(Name("BeeResidualGrad").Device(DEVICE_CPU), ResidualGrad);
REGISTER_KERNEL_BUILDER(Name("BeeAvgPool2Tile").Device(DEVICE_CPU), AvgPool2Tile);
REGISTER_KERNEL_BUILDER(Name("BeeAvgPool2TileGrad").Device(DEVICE_CPU), AvgPool2TileGrad);
REGISTER_KERNEL_BUILDER(Name("BeeSpatialMaxGrad").Device(DEVICE_CPU), SpatialMaxGrad);
}  // namespace bee

// The addon itself exports only the ops' version: registering them is what loading it does.
static napi_value Init(napi_env env, napi_value exports) {
  napi_value version;
  napi_create_uint32(env, BEE_OPS_VERSION, &version);
  napi_set_named_property(env, exports, "opsVersion", version);
  return exports;
}
NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
