/**
 * Just enough WASI (preview 1) to run a command-line WebAssembly program once, with its files in
 * memory: arguments, a preopened directory '.', files it creates there (captured), stdout and
 * stderr (captured), a clock that always reads 0 (so runs are deterministic), and exit. Node's own
 * node:wasi is experimental in Node 20 and, run hundreds of times in a process that allocates a
 * lot, crashed it (a corrupted heap); this needs no native code.
 */

const ESUCCESS = 0;
const EBADF = 8;
const EINVAL = 28;
const ENOENT = 44;
const OFLAGS_CREAT = 1;
const FILETYPE_CHARACTER_DEVICE = 2;
const FILETYPE_DIRECTORY = 3;
const FILETYPE_REGULAR_FILE = 4;
const PREOPENED_DIR = 3;

/** Thrown by proc_exit to unwind the program; caught by run(). */
class Exit {
  constructor(readonly code: number) {}
}

class MemoryFile {
  bytes = new Uint8Array(1024);
  length = 0;
  position = 0;

  write(data: Uint8Array): void {
    const end = this.position + data.length;
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.bytes.length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    this.bytes.set(data, this.position);
    this.position = end;
    this.length = Math.max(this.length, end);
  }
}

export interface WasiRun {
  exitCode: number;
  /** the files the program created, by path */
  files: Map<string, Uint8Array>;
  stdout: string;
  stderr: string;
}

/** Runs a WASI command module's _start once with `args` (args[0] is the program's name). */
export function runWasi(module: WebAssembly.Module, args: string[]): WasiRun {
  const encoder = new TextEncoder();
  const argBytes = args.map((a) => encoder.encode(`${a}\0`));
  const open = new Map<number, { path: string; file: MemoryFile }>();
  const created = new Map<string, MemoryFile>();
  const output: Record<number, MemoryFile> = { 1: new MemoryFile(), 2: new MemoryFile() };
  let nextFd = PREOPENED_DIR + 1;
  let memory!: WebAssembly.Memory;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const gather = (iovs: number, count: number) => {
    const v = view();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < count; i++)
      parts.push(bytes().slice(v.getUint32(iovs + 8 * i, true), v.getUint32(iovs + 8 * i, true) + v.getUint32(iovs + 8 * i + 4, true)));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  };
  const fileOf = (fd: number) => open.get(fd)?.file ?? output[fd];

  const wasi = {
    args_sizes_get(argc: number, bufSize: number) {
      view().setUint32(argc, args.length, true);
      view().setUint32(
        bufSize,
        argBytes.reduce((n, a) => n + a.length, 0),
        true,
      );
      return ESUCCESS;
    },
    args_get(argv: number, buf: number) {
      argBytes.forEach((a, i) => {
        view().setUint32(argv + 4 * i, buf, true);
        bytes().set(a, buf);
        buf += a.length;
      });
      return ESUCCESS;
    },
    clock_time_get(_id: number, _precision: bigint, time: number) {
      view().setBigUint64(time, 0n, true);
      return ESUCCESS;
    },
    fd_close(fd: number) {
      return open.delete(fd) || fd <= PREOPENED_DIR ? ESUCCESS : EBADF;
    },
    fd_fdstat_get(fd: number, stat: number) {
      const type = fd === PREOPENED_DIR ? FILETYPE_DIRECTORY : open.has(fd) ? FILETYPE_REGULAR_FILE : fd <= 2 ? FILETYPE_CHARACTER_DEVICE : 0;
      if (!type) return EBADF;
      const v = view();
      v.setUint8(stat, type);
      v.setUint16(stat + 2, 0, true);
      v.setBigUint64(stat + 8, 0xffffffffffffffffn, true);
      v.setBigUint64(stat + 16, 0xffffffffffffffffn, true);
      return ESUCCESS;
    },
    fd_fdstat_set_flags() {
      return ESUCCESS;
    },
    fd_prestat_get(fd: number, prestat: number) {
      if (fd !== PREOPENED_DIR) return EBADF;
      view().setUint8(prestat, 0); // a directory
      view().setUint32(prestat + 4, 1, true); // its name, '.', is one byte
      return ESUCCESS;
    },
    fd_prestat_dir_name(fd: number, path: number, length: number) {
      if (fd !== PREOPENED_DIR || length < 1) return EBADF;
      bytes()[path] = 0x2e;
      return ESUCCESS;
    },
    fd_read(fd: number, iovs: number, count: number, read: number) {
      if (fd !== 0 && !open.has(fd)) return EBADF;
      // stdin is empty; a file reads from its position
      const file = open.get(fd)?.file;
      let total = 0;
      for (let i = 0; file && i < count; i++) {
        const [at, length] = [view().getUint32(iovs + 8 * i, true), view().getUint32(iovs + 8 * i + 4, true)];
        const part = file.bytes.subarray(file.position, Math.min(file.length, file.position + length));
        bytes().set(part, at);
        file.position += part.length;
        total += part.length;
      }
      view().setUint32(read, total, true);
      return ESUCCESS;
    },
    fd_seek(fd: number, offset: bigint, whence: number, newOffset: number) {
      const file = fileOf(fd);
      if (!file) return EBADF;
      if (whence > 2) return EINVAL;
      const base = whence === 0 ? 0 : whence === 1 ? file.position : file.length;
      // biome-ignore lint/plugin: a WASI offset is a BigInt, not text
      const position = base + Number(offset);
      if (position < 0) return EINVAL;
      file.position = position;
      view().setBigUint64(newOffset, BigInt(position), true);
      return ESUCCESS;
    },
    fd_write(fd: number, iovs: number, count: number, written: number) {
      const file = fileOf(fd);
      if (!file) return EBADF;
      const data = gather(iovs, count);
      file.write(data);
      view().setUint32(written, data.length, true);
      return ESUCCESS;
    },
    path_open(
      dir: number,
      _dirFlags: number,
      path: number,
      length: number,
      oflags: number,
      _rights: bigint,
      _inheriting: bigint,
      _fdFlags: number,
      fd: number,
    ) {
      if (dir !== PREOPENED_DIR) return EBADF;
      const name = new TextDecoder().decode(bytes().subarray(path, path + length));
      // Only files the program made exist; it may create more.
      let file = created.get(name);
      if (!file) {
        if (!(oflags & OFLAGS_CREAT)) return ENOENT;
        file = new MemoryFile();
        created.set(name, file);
      }
      file.position = 0;
      open.set(nextFd, { path: name, file });
      view().setUint32(fd, nextFd++, true);
      return ESUCCESS;
    },
    proc_exit(code: number) {
      throw new Exit(code);
    },
  };
  const instance = new WebAssembly.Instance(module, { wasi_snapshot_preview1: wasi });
  memory = instance.exports.memory as WebAssembly.Memory;
  let exitCode = 0;
  try {
    (instance.exports._start as () => void)();
  } catch (err) {
    if (!(err instanceof Exit)) throw err;
    exitCode = err.code;
  }
  const text = (f: MemoryFile) => new TextDecoder().decode(f.bytes.subarray(0, f.length));
  return {
    exitCode,
    files: new Map([...created].map(([name, f]) => [name, f.bytes.slice(0, f.length)])),
    stdout: text(output[1]),
    stderr: text(output[2]),
  };
}
