/**
 * The shape every Herald CLI shares: run the command, print an error as one line on stderr
 * with exit code 1 (no stack trace for an operator's typo), always release connections.
 */
export async function runCli(command: () => Promise<void>, release: () => Promise<void>): Promise<never> {
  let exitCode = 0;
  try {
    await command();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    exitCode = 1;
  } finally {
    await release();
  }
  process.exit(exitCode);
}
