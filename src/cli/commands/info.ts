import { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import { initBackend } from '../../backend/backend.js';
import { PRETRAINED_BASE, PRETRAINED_MODEL, PRETRAINED_NOTE } from '../../exits/pretrained.js';
import { BEE_VERSION } from '../../version.js';
import { backendNotice, printJson } from '../io.js';

export const infoCommand = new Command('info')
  .description('show the TensorFlow.js backend, versions, threads and where the native library came from')
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
Examples:
  $ bee info
  $ bee info --json | jq .backend`,
  )
  .action(async (flags: { json?: boolean }) => {
    const backend = await initBackend();
    const shipped = (file: string) => (fs.existsSync(file) ? file : null);
    const pretrained = { spotter: shipped(PRETRAINED_MODEL), transferBase: shipped(PRETRAINED_BASE), note: PRETRAINED_NOTE };
    const info = {
      bee: BEE_VERSION,
      node: process.version,
      platform: `${os.platform()}-${os.arch()}`,
      cpus: os.availableParallelism(),
      ...backend,
      pretrained,
    };
    if (flags.json) return printJson(info);
    backendNotice(backend);
    const rows: [string, string][] = [
      ['bee', info.bee],
      ['backend', info.backend],
      ['threads', String(info.threads)],
      ['malloc tuned', info.mallocTuned ? 'yes' : 'no (run through bin/bee.js for native speed)'],
      ['fused kernels', info.fusedOps ? 'yes' : info.backend === 'tensorflow' ? 'no (npm run native builds them)' : 'no (native backend only)'],
      ...Object.entries(info.versions),
      ...Object.entries(info.native ?? {}).map(([k, v]): [string, string] => [`native ${k}`, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
      ['node', info.node],
      ['platform', `${info.platform}, ${info.cpus} cores`],
      ['pretrained spotter', pretrained.spotter ?? 'missing'],
      ['transfer base', `${pretrained.transferBase ?? 'missing'} (bee train --from: your own words)`],
      ['pretrained models', pretrained.note],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  });
