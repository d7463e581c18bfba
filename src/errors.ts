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

  /** One line: "file: reason (hint)". */
  oneLine(): string {
    return this.options.hint ? `${this.message} (${this.options.hint})` : this.message;
  }
}
