/** Runs the sculpt CLI with the given argv and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  process.stdout.write(`sculpt: no commands yet (${argv.length - 2} arguments)\n`);
  return 0;
}
