declare module 'wav-decoder' {
  interface Decoded {
    sampleRate: number;
    length: number;
    numberOfChannels: number;
    channelData: Float32Array[];
  }
  const decoder: {
    decode: { sync(buffer: ArrayBuffer, opts?: { symmetric?: boolean }): Decoded };
  };
  export default decoder;
}

declare module 'fft.js' {
  export default class FFT {
    constructor(size: number);
    createComplexArray(): number[];
    realTransform(output: ArrayLike<number>, input: ArrayLike<number>): void;
    completeSpectrum(spectrum: ArrayLike<number>): void;
  }
}

// The part of the WebAssembly JS API bee uses (TypeScript types it only in lib.dom).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: object);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
}
