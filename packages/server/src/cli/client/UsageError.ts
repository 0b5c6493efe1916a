/** A problem with the command line or its input files: reported as `error [USAGE]: …`, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
