import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BeeError } from '../errors.js';

/**
 * A WebAssembly module that `npm run build` compiles into dist/: read and compiled once per
 * thread in Node, or handed over where there is no file system (a web page compiles it from a
 * fetch). Each instance has its own memory.
 */
export class WasmModule<Exports> {
  private compiled: WebAssembly.Module | undefined;

  /** file: the built module's URL; what: how an error names it ("the packed engine's kernels") */
  constructor(
    private readonly file: URL,
    private readonly what: string,
  ) {}

  /** Where there is no file system: the module, compiled from a fetch of the file. */
  use(module: WebAssembly.Module): void {
    this.compiled = module;
  }

  instantiate(): Exports {
    if (!this.compiled) {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(this.file);
      } catch (err) {
        throw new BeeError(`cannot read ${this.what}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
          file: fileURLToPath(this.file),
          hint: 'run npm run build',
        });
      }
      this.compiled = new WebAssembly.Module(new Uint8Array(bytes));
    }
    return new WebAssembly.Instance(this.compiled, {}).exports as unknown as Exports;
  }
}

/** 16-byte aligned buffers taken one after another from `base` on (a pass that only sizes them: from 0). */
export class Layout {
  bytes = 0;

  constructor(private readonly base = 0) {}

  /** The address of `size` more bytes, 16-byte aligned. */
  take(size: number): number {
    const at = this.base + this.bytes;
    this.bytes += Math.ceil(size / 16) * 16;
    return at;
  }
}
