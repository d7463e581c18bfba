// Bundles the web page (src/web/) into dist/web/ for `bee web`: the page's code with bee's own
// features and packed engine (esbuild; no CDN, works offline), the AudioWorklet, the WebAssembly modules.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.join(root, 'dist', 'web');
fs.mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['page', 'train-worker'].map((name) => path.join(root, 'src', 'web', `${name}.ts`)),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  outdir: out,
  logLevel: 'warning',
  // The engine reads its kernels from disk in Node; the page compiles them from a fetch instead.
  plugins: [
    {
      name: 'no-node',
      setup(b) {
        b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'no-node' }));
        b.onLoad({ filter: /.*/, namespace: 'no-node' }, () => ({ contents: 'export default {}; export const fileURLToPath = () => "";', loader: 'js' }));
      },
    },
  ],
});
for (const file of ['index.html', 'worklet.js']) fs.copyFileSync(path.join(root, 'src', 'web', file), path.join(out, file));
for (const wasm of ['engine/kernels.wasm', 'features/spectrum.wasm']) fs.copyFileSync(path.join(root, 'dist', wasm), path.join(out, path.basename(wasm)));
