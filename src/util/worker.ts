import { Worker } from 'node:worker_threads';

/**
 * Starts a worker from a module next to the caller: the built .js file, or the .ts source under
 * tsx (tests, scripts), where Node 20 does not pass loader hooks on to workers.
 */
export function spawnWorker(moduleUrl: URL, workerData: unknown): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/** The URL of a sibling module with the caller's own extension (.ts from source, .js when built). */
export function siblingModule(callerUrl: string, name: string): URL {
  return new URL(`./${name}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}
