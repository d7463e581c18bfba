// AudioWorklet: hands each block of microphone samples (at the context's 16 kHz) to the page.
class BeeCapture extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0]?.[0];
    if (channel) this.port.postMessage(channel.slice());
    return true;
  }
}
registerProcessor('bee-capture', BeeCapture);
