// The gcloud CLI's active project, the default of --project-id. Shared by the
// Yeoman generators and the bin; called only when no project id was given.
/** `gcloud config get-value project`, when gcloud is there and answers. */
export function gcloudProject(): string | undefined {
  try {
    // Loaded when needed: child_process brings net and dgram, a few ms on every start-up otherwise.
    const { execFileSync } = process.getBuiltinModule('node:child_process');
    const out = execFileSync('gcloud', ['config', 'get-value', 'project'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).trim();
    return out && out !== '(unset)' ? out : undefined;
  } catch {
    return undefined;
  }
}
