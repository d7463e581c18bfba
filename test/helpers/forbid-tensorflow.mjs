// A module hook for a child process: resolving any @tensorflow/* module fails it, so that what runs
// under it proves it never loads TensorFlow (test/engine-index.test.ts).
import { register } from 'node:module';

register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@tensorflow/')) throw new Error('TensorFlow in the module graph: ' + specifier + ' from ' + context.parentURL);
  const resolved = await next(specifier, context);
  if (/\\/src\\/(model|train|convert|exits|backend)\\//.test(resolved.url)) throw new Error('TensorFlow-side module in the graph: ' + resolved.url);
  return resolved;
}`)}`,
);
