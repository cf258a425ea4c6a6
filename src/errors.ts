// Errors the user can fix (bad flag, missing file, foreign checkpoint). The CLI prints their
// message on one line and exits non-zero with no stack trace; anything else is a bug and keeps
// its stack.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
