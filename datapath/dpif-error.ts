// Errors of the datapath layer: a stable errno-like `code` and a message a
// person can act on ("br0: port 7 does not exist").

export class DpifError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'DpifError';
  }
}
