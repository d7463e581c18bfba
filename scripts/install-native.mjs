#!/usr/bin/env node
// Gives @tensorflow/tfjs-node a working native addon, or explains why bee will fall back to wasm.
//
// tfjs-node's own install script downloads libtensorflow and a prebuilt addon from Google's storage,
// which fails offline and would fail `npm install` with it. package.json therefore blocks that script
// (allowScripts) and lists tfjs-node as optional; this postinstall runs the same job with fallbacks:
//   1. the addon already loads: nothing to do;
//   2. tfjs-node's own installer (needs internet);
//   3. libtensorflow from the `tensorflow-cpu` wheel that pip resolves (its libtensorflow_cc.so.2 carries
//      the C API), the addon compiled against it with node-pre-gyp;
//   4. otherwise a one-line notice: bee runs on wasm.
// With the wheel's libtensorflow it then compiles bee's fused training kernels (src/native/bee_ops.cc)
// against the wheel's C++ headers, into deps/lib/bee-ops.node (without them training is about 1.6x slower).
// It never fails the install. BEE_NATIVE=off skips it; BEE_NATIVE=pip skips step 2;
// BEE_TF_WHEEL overrides the pip requirement; BEE_NATIVE_CFLAGS adds compiler flags to the fused
// kernels' build (`-mno-avx512f`: as a machine without AVX-512 runs them). `npm run native` (--force) rebuilds.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TF_WHEEL = process.env.BEE_TF_WHEEL || 'tensorflow-cpu==2.21.*';
const mode = process.env.BEE_NATIVE || 'auto';
const force = process.argv.includes('--force');
const log = (msg) => console.error(`bee native: ${msg}`);

function tfjsNodeDir() {
  try {
    const require = createRequire(path.join(process.cwd(), 'package.json'));
    return path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    return null;
  }
}

function addonLoads(dir) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(dir)})`], { encoding: 'utf8' });
  return r.status === 0;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    const tail = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} failed: ${r.error?.message || tail}`);
  }
  return r.stdout;
}

function writeProvenance(dir, record) {
  fs.mkdirSync(path.join(dir, 'deps'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'deps', 'bee-native.json'), JSON.stringify(record, null, 2) + '\n');
}

function viaOfficialInstaller(dir) {
  log("trying tfjs-node's own installer (downloads libtensorflow)");
  run(process.execPath, ['scripts/install.js'], { cwd: dir, timeout: 10 * 60 * 1000 });
  writeProvenance(dir, { source: 'tfjs-node download', libtensorflow: '2.9.1', builtAt: new Date().toISOString() });
}

function nodeGypEnv() {
  const env = { ...process.env, JOBS: 'max' };
  // Build against the machine's own Node headers when they are installed (no header download needed).
  if (!env.npm_config_nodedir && fs.existsSync('/usr/include/node/node_api.h')) env.npm_config_nodedir = '/usr';
  if (!env.npm_config_node_gyp) {
    const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (fs.existsSync(bundled)) env.npm_config_node_gyp = bundled;
  }
  return env;
}

const FUSED_OPS_SOURCE = fileURLToPath(new URL('../src/native/bee_ops.cc', import.meta.url));
const sourceHash = () => createHash('sha256').update(fs.readFileSync(FUSED_OPS_SOURCE)).digest('hex').slice(0, 16);

function pythonWithPip() {
  const python = ['python3', 'python'].find((p) => spawnSync(p, ['-m', 'pip', '--version']).status === 0);
  if (!python) throw new Error('no python3 with pip on PATH');
  return python;
}

/** Runs use(wheelPath, python) with `requirement`'s wheel downloaded into a temporary directory. */
function withWheel(requirement, use) {
  const python = pythonWithPip();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-tf-wheel-'));
  try {
    log(`fetching ${requirement} with pip`);
    run(python, ['-m', 'pip', 'download', '--no-deps', '--retries', '1', '--timeout', '20', '-d', tmp, requirement]);
    const wheel = fs.readdirSync(tmp).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new Error(`pip downloaded no wheel for ${requirement}`);
    return use(path.join(tmp, wheel), python, tmp);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function viaPipWheel(dir) {
  withWheel(TF_WHEEL, (wheelPath, python, tmp) => {
    const wheel = path.basename(wheelPath);
    const deps = path.join(dir, 'deps');
    fs.rmSync(deps, { recursive: true, force: true });
    log(`extracting libtensorflow and the C API headers from ${wheel}`);
    // Only the C API headers (and the few they include) and the two shared libraries are needed.
    const extract = `
import sys, zipfile, os, shutil
whl, deps = sys.argv[1], sys.argv[2]
headers = ('tensorflow/c/', 'tensorflow/core/platform/ctstring', 'tsl/platform/ctstring', 'xla/tsl/c/')
lib, inc = os.path.join(deps, 'lib'), os.path.join(deps, 'include')
os.makedirs(lib); os.makedirs(inc)
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        if n in ('tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'):
            dest = os.path.join(lib, os.path.basename(n))
        elif n.startswith('tensorflow/include/') and n.endswith('.h') and n[len('tensorflow/include/'):].startswith(headers):
            dest = os.path.join(inc, n[len('tensorflow/include/'):])
        elif n == 'tensorflow/include/LICENSE':
            dest = os.path.join(deps, 'LICENSE')
        else:
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(n) as src, open(dest, 'wb') as out:
            shutil.copyfileobj(src, out, 1 << 20)
print(whl)
`;
    run(python, ['-c', extract, wheelPath, deps]);
    const lib = path.join(deps, 'lib');
    if (!fs.existsSync(path.join(lib, 'libtensorflow_cc.so.2'))) throw new Error(`${wheel} has no libtensorflow_cc.so.2`);
    // binding.gyp links -ltensorflow -ltensorflow_framework; at run time the sonames (*.so.2) are loaded.
    fs.symlinkSync('libtensorflow_cc.so.2', path.join(lib, 'libtensorflow.so'));
    fs.symlinkSync('libtensorflow_framework.so.2', path.join(lib, 'libtensorflow_framework.so'));

    log('compiling the tfjs-node addon against it (about a minute)');
    const require = createRequire(path.join(dir, 'package.json'));
    const preGyp = path.join(path.dirname(require.resolve('@mapbox/node-pre-gyp/package.json')), 'bin', 'node-pre-gyp');
    run(process.execPath, [preGyp, 'install', '--build-from-source'], { cwd: dir, env: nodeGypEnv() });
    const version = wheel.split('-')[1];
    writeProvenance(dir, { source: 'pip wheel', package: `tensorflow-cpu ${version}`, wheel, builtAt: new Date().toISOString() });
    ensureFusedOps(dir, { rebuild: true, build: () => compileFusedOps(dir, wheelPath, python, tmp) });
  });
}

function nodeApiHeaders() {
  const candidates = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'node_api.h')));
  if (!found) throw new Error(`no node_api.h in ${candidates.join(', ')}`);
  return found;
}

const fusedOpsFile = (dir) => path.join(dir, 'deps', 'lib', 'bee-ops.node');

/** Whether deps/lib/bee-ops.node is the current source's build (bee-native.json records the source's hash). */
function fusedOpsCurrent(dir) {
  const file = path.join(dir, 'deps', 'bee-native.json');
  if (!fs.existsSync(fusedOpsFile(dir)) || !fs.existsSync(file)) return false;
  return JSON.parse(fs.readFileSync(file, 'utf8')).fusedOps?.source === sourceHash();
}

const readProvenance = (dir) => {
  const file = path.join(dir, 'deps', 'bee-native.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
};

/**
 * Compiles src/native/bee_ops.cc against the C++ headers of `wheelPath`, the wheel whose
 * libtensorflow the addon uses (a custom op library must match its TensorFlow exactly), for this
 * machine's CPU.
 */
function compileFusedOps(dir, wheelPath, python, tmp) {
  const nodeInclude = nodeApiHeaders();
  log("extracting the C++ headers and compiling bee's fused training kernels (about 20 s)");
  const extract = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('tensorflow/include/')])
`;
  run(python, ['-c', extract, wheelPath, tmp]);
  const headers = path.join(tmp, 'tensorflow', 'include');
  const out = fusedOpsFile(dir);
  const partial = `${out}.partial`;
  run(process.env.CXX || 'g++', [
    '-O3',
    '-march=native',
    // TensorFlow 2.21's Eigen headers fail to compile with AVX512-FP16 on (PacketMathFP16.h, g++ 12,
    // as on Sapphire Rapids Xeons); bee's kernels use no half floats
    '-mno-avx512fp16',
    ...(process.env.BEE_NATIVE_CFLAGS ?? '').split(/\s+/).filter(Boolean),
    '-ffp-contract=off',
    '-shared',
    '-fPIC',
    '-std=c++17',
    '-w',
    '-D_GLIBCXX_USE_CXX11_ABI=1',
    '-DEIGEN_MAX_ALIGN_BYTES=64',
    '-DNODE_GYP_MODULE_NAME=bee_ops',
    `-I${headers}`,
    `-I${nodeInclude}`,
    FUSED_OPS_SOURCE,
    '-o',
    partial,
    `-L${path.join(dir, 'deps', 'lib')}`,
    '-l:libtensorflow_framework.so.2',
    '-Wl,-rpath,$ORIGIN',
  ]);
  fs.renameSync(partial, out);
  const cflags = process.env.BEE_NATIVE_CFLAGS || undefined;
  writeProvenance(dir, { ...readProvenance(dir), fusedOps: { source: sourceHash(), cflags, builtAt: new Date().toISOString() } });
}

/** compileFusedOps with the addon's wheel fetched again (the addon was built earlier). */
function fetchAndCompileFusedOps(dir) {
  const provenance = readProvenance(dir);
  if (provenance.source !== 'pip wheel') throw new Error(`they need the pip wheel's libtensorflow, and this one came from ${provenance.source ?? 'elsewhere'}`);
  withWheel(`tensorflow-cpu==${provenance.package.split(' ')[1]}`, (wheelPath, python, tmp) => compileFusedOps(dir, wheelPath, python, tmp));
}

/** Builds the fused kernels unless the current source's build is there (or `rebuild`); never fails the install. */
function ensureFusedOps(dir, { rebuild = false, build = () => fetchAndCompileFusedOps(dir) } = {}) {
  if (!rebuild && fusedOpsCurrent(dir)) return;
  try {
    build();
    log("bee's fused training kernels are ready");
  } catch (err) {
    fs.rmSync(fusedOpsFile(dir), { force: true });
    log(`no fused training kernels (${err.message}); bee trains with composite ops, about 1.6x slower`);
  }
}

function main() {
  if (mode === 'off') return log('skipped (BEE_NATIVE=off); bee will use wasm');
  const dir = tfjsNodeDir();
  if (!dir) {
    return log(
      '@tensorflow/tfjs-node is not installed (an npm without allowScripts drops it when its download fails); ' +
        'bee will use wasm. For native speed: npm install --ignore-scripts && npm run native',
    );
  }
  if (!force && addonLoads(dir)) {
    log('native TensorFlow addon is ready');
    return ensureFusedOps(dir, { rebuild: force });
  }
  const attempts = mode === 'pip' ? [viaPipWheel] : [viaOfficialInstaller, viaPipWheel];
  const failures = [];
  for (const attempt of attempts) {
    try {
      attempt(dir);
      if (addonLoads(dir)) {
        log('native TensorFlow addon is ready');
        return ensureFusedOps(dir);
      }
      failures.push(`${attempt.name}: built, but the addon does not load`);
    } catch (err) {
      failures.push(`${attempt.name}: ${err.message}`);
    }
  }
  log(`no native TensorFlow (${failures.join('; ')}); bee will use wasm. Retry with: npm run native`);
}

main();
