// One error type for every data-loading failure, carrying the offending path so callers (and
// the CLI) can point at the exact file instead of a generic "bad dataset".

export class DatasetError extends Error {
  /** The file or directory the problem is about, when there is one. */
  readonly file: string | undefined;

  constructor(message: string, file?: string, options?: { cause?: unknown }) {
    super(file !== undefined && !message.includes(file) ? `${file}: ${message}` : message, options);
    this.name = 'DatasetError';
    this.file = file;
  }
}
