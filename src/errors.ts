/**
 * An error the user can act on: what failed (file), why (reason), and what to do (hint).
 * The CLI prints it as one line and exits non-zero; anything else is a bug and keeps its stack.
 */
export class BeeError extends Error {
  constructor(
    readonly reason: string,
    readonly options: { file?: string; hint?: string } = {},
  ) {
    super(options.file ? `${options.file}: ${reason}` : reason);
    this.name = 'BeeError';
  }

  /** One line: "file: reason (hint)", with any line break in a file name or reason escaped. */
  oneLine(): string {
    const line = this.options.hint ? `${this.message} (${this.options.hint})` : this.message;
    return line.replace(/[\r\n]/g, (c) => (c === '\n' ? '\\n' : '\\r'));
  }
}
