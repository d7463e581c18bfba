#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { alreadyTuned, relaunch } from './native-env.js';

const main = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (alreadyTuned()) await import(main);
else relaunch([main, ...process.argv.slice(2)]);
