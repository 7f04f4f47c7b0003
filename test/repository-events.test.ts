// The event helper of test/support/standins.ts: a push to a linked 2nd-gen repository goes through its
// regional trigger, and the build it returns runs on the host with the built-ins Cloud Build gives it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuild } from './support/cloudbuild.js';
import { tempDir } from './support/generate.js';
import { completeGithubConnection, deliverEvent, startStandin, tokenFor } from './support/standins.js';
import type { Standin } from './support/standins.js';

const PROJECT = 'demo-project';
const LOCATION = `projects/${PROJECT}/locations/us-central1`;
const CONNECTION = `${LOCATION}/connections/gh`;
const REPOSITORY = `${CONNECTION}/repositories/mono`;
const AGENT = 'serviceAccount:service-123456789012@gcp-sa-cloudbuild.iam.gserviceaccount.com';
const OWNER = 'user:owner@example.com';

async function api(google: Standin, method: string, route: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${google.url}${route}`, {
    method,
    headers: { Authorization: `Bearer ${tokenFor(OWNER)}`, 'Content-Type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  expect(response.status, JSON.stringify(answer)).toBe(200);
  return answer;
}

describe('a webhook event through a regional trigger', () => {
  let google: Standin;
  let builder: string;
  beforeAll(async () => {
    google = await startStandin('google_apis.py');
    await api(google, 'POST', `v1/projects/${PROJECT}/services:batchEnable`, { serviceIds: ['secretmanager.googleapis.com'] });
    const policy = await api(google, 'POST', `v1/projects/${PROJECT}:getIamPolicy`, {});
    const bindings = [...((policy.bindings as unknown[]) ?? []), { role: 'roles/secretmanager.admin', members: [AGENT] }];
    await api(google, 'POST', `v1/projects/${PROJECT}:setIamPolicy`, { policy: { ...policy, bindings } });
    await api(google, 'POST', `v2/${LOCATION}/connections?connectionId=gh`, { githubConfig: {} });
    await completeGithubConnection(google, CONNECTION, ['acme/mono']);
    await api(google, 'POST', `v2/${CONNECTION}/repositories?repositoryId=mono`, { remoteUri: 'https://github.com/acme/mono.git' });
    builder = (await api(google, 'POST', `v1/projects/${PROJECT}/serviceAccounts`, { accountId: 'builder' })).email as string;
    await api(google, 'POST', `v2/${CONNECTION}:setIamPolicy`, {
      policy: { bindings: [{ role: 'roles/cloudbuild.readTokenAccessor', members: [`serviceAccount:${builder}`] }] },
    });
    await api(google, 'POST', `v1/${LOCATION}/triggers`, {
      name: 'publish',
      filename: 'cloudbuild.yaml',
      repositoryEventConfig: { repository: REPOSITORY, push: { branch: '^main$' } },
      substitutions: { _GREETING: 'hello' },
      serviceAccount: `projects/${PROJECT}/serviceAccounts/${builder}`,
    });
  });
  afterAll(async () => google?.stop());

  it('returns the build, which runs with the trigger and built-in substitutions', async () => {
    const delivery = await deliverEvent(google, REPOSITORY, { push: { branch: 'main', commitSha: '0123456789abcdef', changedFiles: ['a.py'] } });
    expect(delivery.failed).toEqual([]);
    expect(delivery.builds.map((b) => [b.triggerName, b.serviceAccountEmail, b.filename])).toEqual([['publish', builder, 'cloudbuild.yaml']]);
    const workspace = tempDir('workspace');
    mkdirSync(workspace, { recursive: true });
    writeFileSync(path.join(workspace, 'cloudbuild.yaml'), "steps:\n- id: say\n  name: debian:trixie-slim\n  entrypoint: bash\n  args: ['-c', 'echo $_GREETING $SHORT_SHA $REPO_FULL_NAME $$#']\n");
    const [build] = delivery.builds;
    const result = runBuild({
      workspace,
      config: build.filename,
      builtIns: build.builtIns,
      substitutions: build.substitutions,
      mode: 'trigger',
      env: process.env,
      logFile: path.join(workspace, 'build.log'),
    });
    expect(result.ok).toBe(true);
    expect(result.steps[0].stdout.trim()).toBe('hello 0123456 acme/mono 0');
  });

  it('throws when no event reaches Cloud Build', async () => {
    await expect(deliverEvent(google, `${CONNECTION}/repositories/unlinked`, { push: { branch: 'main', commitSha: 'abc' } })).rejects.toThrow(/404/);
  });
});
