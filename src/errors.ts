/**
 * An error in what the user gave us (a file, a flag). The CLI prints its message alone, without
 * a stack, and exits with status 2; anything else is a bug and keeps its stack.
 */
export class InputError extends Error {
  override readonly name = "InputError";
}

/** A problem at one place in an input file: "file:line: field: what is wrong". */
export class FileInputError extends InputError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${field === null ? "" : `${field}: `}${problem}`);
  }
}
