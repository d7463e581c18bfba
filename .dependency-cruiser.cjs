// bee's architecture, as rules that run (npm run lint, npm test): the runtime reads and runs .bee
// files without TensorFlow, commands are leaves, and nothing imports what imports it back.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runtime-without-tensorflow',
      severity: 'error',
      comment:
        'The TensorFlow-free core (spec) and the runtime (engine, stream, web, and transfer: new exit heads, in the page too) with what they stand on never load TensorFlow, the layers (model), training (train), the converter (convert), the TensorFlow-side evaluation (exits) or the backends.',
      from: { path: '^src/(spec|engine|stream|web|features|audio|data|util|serve|synth|transfer)/' },
      to: { path: ['^node_modules/@tensorflow/', '^src/(model|train|convert|exits|backend)/'] },
    },
    {
      name: 'commands-are-leaves',
      severity: 'error',
      comment: 'A command parses flags, calls the library and prints: only the CLI entry point imports one.',
      from: { pathNot: '^src/cli/main\\.ts$' },
      to: { path: '^src/cli/commands/' },
    },
    {
      name: 'no-circular-modules',
      severity: 'error',
      comment: 'Modules that import each other back, directly or around a circle.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      severity: 'error',
      scope: 'folder',
      comment: 'A folder that imports a folder that imports it back.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.d\\.ts$', '^src/web/worklet\\.js$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
