/**
 * Quoting for commands run on a remote node. sshd hands the command string to the login shell
 * (`$SHELL -c`), so every argument must reach it as one literal word, whatever it contains: a run
 * name, a path, a prompt. POSIX single quotes are the only quoting with no special characters
 * inside; a single quote itself is written as '\'' (close, escaped quote, reopen). This assumes a
 * POSIX shell on the node (bash on Lambda's Ubuntu images), not csh or fish.
 */
import { InputError } from "../../errors.js";

/** Words made of these characters mean the same quoted or not; left bare to keep logs readable. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One shell word that the remote shell reads back as exactly `arg`. */
export function quote(arg: string): string {
  // A C string (argv, environment) cannot hold NUL, so no quoting can carry it.
  if (arg.includes("\0")) throw new InputError("a remote command argument contains a NUL byte");
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** A command line that runs argv[0] with the other elements as its arguments, each one quoted. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error("shellCommand needs at least the program name");
  return argv.map(quote).join(" ");
}
