#!/usr/bin/env node
// `node` with bee's malloc settings, for benchmark scripts: bee-node.js [node args] script [args].
import { relaunch } from './native-env.js';

relaunch(process.argv.slice(2));
