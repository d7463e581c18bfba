import { createRequire } from 'node:module';

export const BEE_VERSION: string = createRequire(import.meta.url)('../package.json').version;
