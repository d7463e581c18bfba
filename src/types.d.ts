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
