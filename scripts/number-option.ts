// A parseArgs string option as a number, or exit with a one-line usage error.
import { decimal } from '../src/util/decimal.ts';

export function numberOption(value: string | undefined, flag: string, script: string): number {
  const n = decimal(value ?? '');
  if (Number.isNaN(n)) {
    console.error(`${script}: ${flag} must be a number, got '${value}'`);
    process.exit(2);
  }
  return n;
}
