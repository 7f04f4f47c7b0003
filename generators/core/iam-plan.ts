// The IAM plan: every role binding that scripts/setup-gcp.sh makes for the pipelines'
// accounts, as data, worked out once from the answers. The script's grant list and the
// generated README's identities table are rendered from it, so a reader sees each grant
// once, with its reason and the Google document that asks for it.
//
// Where a binding sits follows what Google evaluates: IAM Conditions read resource names
// only for the services on Google's list ("Resource attributes for IAM Conditions",
// cloud.google.com/iam/docs/conditions-resource-attributes: "Other services and resource
// types do not recognize resource attributes"). Cloud Storage is on it; Artifact Registry,
// Cloud Run and Cloud Functions are not, so their grants sit on the resource itself, or
// on the project without a condition, and the README says what that allows.
import type { Model } from './model.js';

/** The project's number, which the script reads (`gcloud projects describe`); the generator cannot know it. */
export const PROJECT_NUMBER = '{PROJECT_NUMBER}';

export type Where =
  | { kind: 'project' }
  | { kind: 'repository'; id: string; location: string }
  | { kind: 'account'; email: string }
  /** A Cloud Build connection: granted on once it exists, after the script makes it. */
  | { kind: 'connection'; id: string; location: string };

export interface Grant {
  /** An IAM member, as policies write it. */
  member: string;
  /** A predefined role, or a custom role of the project (projects/P/roles/ID). */
  role: string;
  where: Where;
  /** Only where the service reads it (Cloud Storage); may hold PROJECT_NUMBER. */
  condition?: { expression: string; title: string };
  /** What the job does with it, in one line. */
  why: string;
  /** The Google document that asks for it. */
  doc: string;
  /** Made at the start of the connection's section, before the connection (the rest: with the other roles). */
  phase?: 'connection';
}

export interface Identity {
  account: string;
  /** What runs as it. */
  runs: string;
  /** What its grants let it do, beyond its job where Google offers nothing narrower. */
  can: string;
}

const DOC = {
  arRoles: 'https://cloud.google.com/artifact-registry/docs/access-control#roles',
  buildLogs: 'https://cloud.google.com/build/docs/securing-builds/configure-user-specified-service-accounts',
  deployerRoles: 'https://cloud.google.com/functions/docs/reference/iam/roles',
  actAs: 'https://cloud.google.com/functions/docs/reference/iam/roles#additional-configuration',
  invokerPolicy: 'https://cloud.google.com/functions/docs/securing/managing-access-iam#allowing_unauthenticated_http_function_invocation',
  impersonate: 'https://cloud.google.com/iam/docs/create-short-lived-credentials-direct',
  buildAccount: 'https://cloud.google.com/functions/docs/securing/build-custom-sa',
  pubsubTrigger: 'https://cloud.google.com/eventarc/docs/run/create-trigger-pubsub-gcloud',
  storageTrigger: 'https://cloud.google.com/eventarc/docs/run/create-trigger-storage-gcloud',
  connectGithub: 'https://cloud.google.com/build/docs/automating-builds/github/connect-repo-github',
  connectGitlab: 'https://cloud.google.com/build/docs/automating-builds/gitlab/connect-repo-gitlab',
} as const;

const sa = (email: string): string => `serviceAccount:${email}`;

/** Every binding the repository's pipelines need, in the order the script makes them. */
export function iamPlan(m: Model): Grant[] {
  const project = { kind: 'project' } as const;
  const python = { kind: 'repository', id: m.repository, location: m.region } as const;
  const index = { kind: 'repository', id: m.indexRepository, location: m.region } as const;
  const images = { kind: 'repository', id: m.imagesRepository, location: m.functionRegion } as const;
  const build = sa(m.buildServiceAccount);
  const fnBuild = sa(m.functionBuildServiceAccount);
  const pr = sa(m.prServiceAccount);
  const role = (id: string) => `projects/${m.projectId}/roles/${id}`;
  const grants: Grant[] = [
    { member: build, role: 'roles/artifactregistry.writer', where: python, why: 'the release uploads with twine; its version check and the deploys\' wait read the repository', doc: DOC.arRoles },
    { member: build, role: 'roles/logging.logWriter', where: project, why: 'the push builds run as it and log to Cloud Logging', doc: DOC.buildLogs },
    { member: pr, role: 'roles/logging.logWriter', where: project, why: 'the pull-request builds run as it and log to Cloud Logging', doc: DOC.buildLogs },
    { member: pr, role: 'roles/artifactregistry.reader', where: index, why: 'the pull-request checks install each function\'s requirements from the index', doc: DOC.arRoles },
  ];
  if (m.indexRepository !== m.repository) {
    // With the private layout the index is this repository, and the grant above covers it.
    grants.push({ member: pr, role: 'roles/artifactregistry.reader', where: python, why: 'the pull-request checks refuse changed code under a published version, as the release would', doc: DOC.arRoles });
  }
  if (m.functions.length > 0) {
    grants.push(
      { member: build, role: role(m.deployerRoleId), where: project, why: 'gcloud functions deploy, and only what it checks', doc: DOC.deployerRoles },
      { member: build, role: 'roles/iam.serviceAccountUser', where: { kind: 'account', email: m.functionBuildServiceAccount }, why: 'a deploy names the function build account (--build-service-account)', doc: DOC.actAs },
    );
    for (const fn of m.functions) {
      grants.push({ member: build, role: 'roles/iam.serviceAccountUser', where: { kind: 'account', email: fn.runtimeAccount }, why: `a deploy of ${fn.name} runs it as this account (--service-account)`, doc: DOC.actAs });
      if (fn.triggerAccount) {
        grants.push({ member: build, role: 'roles/iam.serviceAccountUser', where: { kind: 'account', email: fn.triggerAccount }, why: `a deploy of ${fn.name} has its events delivered as this account (--trigger-service-account)`, doc: DOC.actAs });
      }
    }
    if (m.functions.some((fn) => fn.allowUnauthenticated)) {
      // Cloud Run reads no condition, and a function's service does not exist before its first deploy.
      grants.push({ member: build, role: role(m.invokerPolicyRoleId), where: project, why: '--allow-unauthenticated sets a new public function\'s invoker policy', doc: DOC.invokerPolicy });
    }
  }
  if (m.auth === 'token') {
    grants.push(
      { member: build, role: 'roles/iam.serviceAccountTokenCreator', where: { kind: 'account', email: m.readerServiceAccount }, why: 'a deploy mints the reader\'s short-lived token for requirements.txt', doc: DOC.impersonate },
      { member: sa(m.readerServiceAccount), role: 'roles/artifactregistry.reader', where: index, why: 'that token reads the index, and nothing else', doc: DOC.arRoles },
    );
  }
  if (m.functions.length > 0) {
    grants.push(
      { member: fnBuild, role: 'roles/logging.logWriter', where: project, why: 'the functions\' builds log to Cloud Logging', doc: DOC.buildAccount },
      { member: fnBuild, role: 'roles/artifactregistry.writer', where: images, why: 'the functions\' builds push their images to this repository (--docker-repository)', doc: DOC.buildAccount },
      {
        member: fnBuild, role: 'roles/storage.objectViewer', where: project,
        // Cloud Storage reads conditions on object names; the bucket is Google's, made at the first deploy.
        condition: { expression: `resource.name.startsWith("projects/_/buckets/gcf-v2-sources-${PROJECT_NUMBER}-${m.functionRegion}/")`, title: 'arpypi: function sources' },
        why: 'the functions\' builds read their uploaded source', doc: DOC.buildAccount,
      },
      { member: fnBuild, role: 'roles/artifactregistry.reader', where: index, why: 'pip in the functions\' builds reads the index (Google\'s buildpack gives it this account\'s token)', doc: DOC.arRoles },
    );
    if (m.indexRepository !== m.repository) {
      // Each deploy pins the released wheel by its URL in the private repository and its sha256 (wait-for-release.py).
      grants.push({ member: fnBuild, role: 'roles/artifactregistry.reader', where: python, why: 'pip in the functions\' builds downloads the released wheel the deploy pins by URL and sha256', doc: DOC.arRoles });
    }
  }
  if (m.secondGen) {
    // Google's page on connecting a repository: to create a connection with gcloud, Cloud Build's
    // service agent must be able to keep its tokens in Secret Manager.
    const connectDoc = m.gitHost === 'gitlab' ? DOC.connectGitlab : DOC.connectGithub;
    grants.push({
      member: `serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-cloudbuild.iam.gserviceaccount.com`, role: 'roles/secretmanager.admin', where: project,
      why: `Cloud Build keeps the connection's ${m.gitHostName} tokens in Secret Manager`, doc: connectDoc, phase: 'connection',
    });
    // No Google page says whether a build that runs as its own account fetches the source with that
    // account's right to the repository's read token: the stricter reading, that it does (README.md).
    const connection = { kind: 'connection', id: m.connection, location: m.buildRegion } as const;
    for (const [member, builds] of [[build, 'the push builds'], [pr, 'the pull-request builds']] as const) {
      grants.push({ member, role: 'roles/cloudbuild.readTokenAccessor', where: connection, why: `${builds} fetch the commit through the connection (the stricter reading: no page settles it)`, doc: connectDoc });
    }
  }
  for (const fn of m.functions) {
    if (!fn.triggerAccount) continue;
    // Cloud Run reads no condition, and the service does not exist before the first deploy:
    // on the project, so that the first event after the first deploy is delivered.
    grants.push({ member: sa(fn.triggerAccount), role: 'roles/run.invoker', where: project, why: `Eventarc delivers ${fn.name}'s events as this account`, doc: DOC.pubsubTrigger });
    if (fn.triggerKind === 'bucket') {
      grants.push({ member: sa(fn.triggerAccount), role: 'roles/eventarc.eventReceiver', where: project, why: `Eventarc receives ${fn.name}'s Cloud Storage events as this account`, doc: DOC.storageTrigger });
    }
  }
  return grants;
}

/** Each account the script creates or relies on: what runs as it, and what it can do. */
export function identities(m: Model): Identity[] {
  const publicFunctions = m.functions.filter((fn) => fn.allowUnauthenticated).map((fn) => fn.name);
  const list: Identity[] = [
    {
      account: m.buildServiceAccount,
      runs: 'the release and the function deploys (push triggers)',
      can: [
        `upload to ${m.repository}`,
        ...(m.functions.length > 0 ? ['create and update the project\'s Cloud Functions (a custom role holding only what gcloud functions deploy checks)', 'act as the functions\' runtime, trigger and build accounts'] : []),
        ...(publicFunctions.length > 0
          ? [`set the invoker policy of every Cloud Run service in the project (needed to make ${publicFunctions.join(', ')} public at the first deploy: Cloud Run reads no IAM condition, and a service has no policy before it exists)`]
          : []),
        ...(m.auth === 'token' ? [`mint tokens of ${m.readerServiceAccount}`] : []),
      ].join('; '),
    },
    { account: m.prServiceAccount, runs: 'the pull-request checks', can: `write build logs and read ${m.indexRepository === m.repository ? m.repository : `${m.indexRepository} and ${m.repository}`}; no upload, deploy, actAs or token` },
  ];
  if (m.functions.length > 0) {
    list.push({ account: m.functionBuildServiceAccount, runs: 'the functions\' own image builds', can: `read ${m.indexRepository === m.repository ? m.repository : `${m.indexRepository} and ${m.repository}`} and the functions' uploaded source; push images to ${m.imagesRepository} only` });
  }
  if (m.auth === 'token') {
    list.push({ account: m.readerServiceAccount, runs: 'the short-lived token in requirements.txt', can: `read ${m.indexRepository}, nothing else` });
  }
  for (const fn of m.functions) {
    list.push({ account: fn.runtimeAccount, runs: `the function ${fn.name} at run time`, can: fn.dedicatedAccount ? 'nothing: it holds no role' : 'what you granted it' });
    if (fn.triggerAccount) {
      list.push({
        account: fn.triggerAccount,
        runs: `the events that invoke ${fn.name}`,
        can: 'invoke every Cloud Run service and function of the project (Cloud Run reads no IAM condition, and the function\'s own service does not exist before its first deploy); only Eventarc uses it, and nobody may mint its tokens',
      });
    }
  }
  return list;
}

/** A single-quoted shell word. */
const quoted = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * The words of setup-gcp.sh's `grant KIND RESOURCE ROLE MEMBER [EXPRESSION TITLE]` for G,
 * quoted for bash: the project is the script's $project, the project number its
 * $project_number (read from Google), every other value a literal.
 */
export function grantWords(g: Grant): string {
  const resource = g.where.kind === 'project' ? '"$project"' : quoted(g.where.kind === 'account' ? g.where.email : `${g.where.location}/${g.where.id}`);
  const withNumber = (text: string) => text.split(PROJECT_NUMBER).map(quoted).join('"$project_number"');
  const condition = g.condition ? ` ${withNumber(g.condition.expression)} ${quoted(g.condition.title)}` : '';
  return `${g.where.kind} ${resource} ${quoted(g.role)} ${withNumber(g.member)}${condition}`;
}
