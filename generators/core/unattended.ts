// What --yes says when a value has no flag, no stored answer and no default.
// One sentence for the Yeoman generators and the bin alike.
import { missingError } from './answers.js';
import type { UsageError } from './answers.js';
import type { OptionSpec } from './options.js';

export function missingUnderYes(missing: readonly OptionSpec[], filled: Record<string, unknown>): UsageError {
  const multiRegion = missing.some((s) => s.key === 'functionRegion') && typeof filled.region === 'string';
  return missingError(
    [...missing],
    multiRegion
      ? `--yes takes each value from a flag, .yo-rc.json or a default, and these have none (--function-region has no default when --region is the multi-region ${filled.region}, since a function runs in one region)`
      : '--yes takes each value from a flag, .yo-rc.json or a default, and these have none',
  );
}
