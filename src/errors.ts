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

/**
 * A command that has said what it had to say and ends with a non-zero status (a sweep that did
 * not finish): the CLI prints nothing more and exits with `code`. Setting process.exitCode would
 * not do: the entry point sets it from runCli's return value, and in-process callers never see it.
 */
export class ExitStatus extends Error {
  override readonly name = "ExitStatus";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
