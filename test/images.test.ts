// The build runner runs each step with only what its image has (support/images.ts): an
// entrypoint the image lacks fails as Cloud Build fails it, a script's missing program
// fails as bash fails it, and an image the table does not know is refused. And the
// generated repository's steps each name an image that has what they run, pinned by version.
import { readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { missingEntrypoint, runBuild } from './support/cloudbuild.js';
import type { BuildResult } from './support/cloudbuild.js';
import { buildConfigs, COMBOS, generate, read, tempDir } from './support/generate.js';
import { GCLOUD_VERSIONS, imageContents, knownImages, PYTHON_PATCHES } from './support/images.js';
import { requirePython, which } from './support/tools.js';
import { CLOUD_SDK_IMAGE, PYTHON_IMAGES } from '../dist/generators/core/model.js';

const GCLOUD = 'gcr.io/google.com/cloudsdktool/google-cloud-cli';
const STABLE_0_2_0 = `${GCLOUD}:stable`;
const SLIM = `${GCLOUD}:${GCLOUD_VERSIONS[0]}-slim`;
const STABLE = `${GCLOUD}:${GCLOUD_VERSIONS[0]}-stable`;
const FULL = `${GCLOUD}:${GCLOUD_VERSIONS[0]}`;
const PYTHON_SLIM = `python:${PYTHON_PATCHES['3.12']}-slim-trixie`;
const python = requirePython();

interface TestStep { id: string; name: string; entrypoint: string; args?: string[]; env?: string[] }

/** Runs STEPS in a fresh workspace holding FILES, with Debian's python3 playing python and python3. */
function build(steps: TestStep[], files: Record<string, string> = {}): { result: BuildResult; workspace: string } {
  const workspace = tempDir('images');
  // gcloud keeps its configuration and logs out of the user's home.
  const env = { ...process.env, CLOUDSDK_CONFIG: path.join(workspace, '.gcloud') };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(workspace, name), text);
  writeFileSync(path.join(workspace, 'cloudbuild.yaml'), stringify({ steps }));
  const result = runBuild({
    workspace, config: 'cloudbuild.yaml', builtIns: { PROJECT_ID: 'p' }, env,
    entrypoints: { python, python3: python }, logFile: path.join(workspace, 'log'),
  });
  return { result, workspace };
}

/** A step that runs bash -c SCRIPT in IMAGE. */
const sh = (id: string, name: string, script: string): TestStep => ({ id, name, entrypoint: 'bash', args: ['-c', script] });

describe("0.2.0's wait-for-release step", () => {
  // What 0.2.0 generated: python3 in the Cloud SDK's :stable image; the script asks for gcloud's token.
  const step = (name: string): TestStep => ({ id: 'wait-for-release', name, entrypoint: 'python3', args: ['wait.py'] });
  const script = { 'wait.py': 'import shutil\nprint("started; gcloud at", shutil.which("gcloud"))\n' };

  it('cannot start in :stable, which has no python3 on x86_64, though the host has one', () => {
    const { result } = build([step(STABLE_0_2_0)], script);
    expect(result.ok).toBe(false);
    expect(result.steps).toEqual([{ id: 'wait-for-release', status: 127, stdout: '', stderr: missingEntrypoint(0, STABLE_0_2_0, 'python3') }]);
    expect(result.steps[0].stderr).toContain('exec: "python3": executable file not found in $PATH');
  });

  it('starts in :slim, and finds the gcloud it asks for a token', () => {
    const { result } = build([step(SLIM)], script);
    expect(result.steps[0].stderr).toBe('');
    expect(result.ok).toBe(true);
    const gcloud = /gcloud at (\S+)/.exec(result.steps[0].stdout)?.[1];
    expect(gcloud && path.basename(gcloud)).toBe('gcloud');
    expect(realpathSync(gcloud!)).toBe(realpathSync(which('gcloud')));
  });
});

describe('each image refuses a program it lacks, though the host has it', () => {
  const cases: { image: string; lacks: string; has: string }[] = [
    { image: PYTHON_SLIM, lacks: 'curl', has: 'sha256sum' },
    { image: PYTHON_SLIM, lacks: 'git', has: 'pip' },
    { image: STABLE, lacks: 'curl', has: 'gcloud' },
    { image: SLIM, lacks: 'kubectl', has: 'git' },
    { image: FULL, lacks: 'wget', has: 'kubectl' },
    { image: 'debian:trixie-slim', lacks: 'curl', has: 'mktemp' },
  ];
  it.each(cases)('$image: a script calling $lacks fails with command not found; $has is there', ({ image, lacks, has }) => {
    which(lacks);
    which(has);
    const { result } = build([sh('has', image, `command -v ${has}`), sh('lacks', image, `${lacks} --version`)]);
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([['has', 0], ['lacks', 127]]);
    expect(result.steps[1].stderr).toContain(`${lacks}: command not found`);
  });

  it.each([
    { image: PYTHON_SLIM, entrypoint: 'gcloud' },
    { image: PYTHON_SLIM, entrypoint: 'python3.13' },
    { image: SLIM, entrypoint: 'python' },
    { image: STABLE, entrypoint: 'python3' },
  ])('$image: entrypoint $entrypoint cannot start, and no later step runs', ({ image, entrypoint }) => {
    const { result, workspace } = build([{ id: 'first', name: image, entrypoint }, sh('later', 'debian:trixie-slim', 'touch ran')]);
    expect(result.ok).toBe(false);
    expect(result.steps).toHaveLength(1);
    expect(result.steps[0].stderr).toBe(missingEntrypoint(0, image, entrypoint));
    expect(readdirSync(workspace)).not.toContain('ran');
  });
});

describe('the runner', () => {
  it('refuses an image the table does not know, naming the table', () => {
    const { result, workspace } = build([sh('old', 'python:3.12-slim-bookworm', 'touch ran')]);
    expect(result.ok).toBe(false);
    expect(result.steps[0].stderr).toBe(
      "image python:3.12-slim-bookworm is not in the test's image table (test/support/images.ts); add it with the programs its Dockerfile puts on PATH and the file and line that say so",
    );
    expect(readdirSync(workspace)).not.toContain('ran');
  });

  it.each([PYTHON_SLIM, SLIM, STABLE])("gives a step in %s exactly its image's programs on PATH", (image) => {
    const { result } = build([sh('list', image, 'ls -A "$$PATH"')]);
    expect(result.steps[0].stdout.trim().split('\n').sort()).toEqual([...imageContents(image).programs].sort());
  });

  it("lets the host choose which binary plays a program: python is Debian's python3", () => {
    const { result } = build([{ id: 'which', name: PYTHON_SLIM, entrypoint: 'python', args: ['-c', 'import sys; print(sys.executable)'] }]);
    expect(result.ok).toBe(true);
    expect(realpathSync(result.steps[0].stdout.trim())).toBe(realpathSync(python));
  });

  it("runs the host's gcloud within the image's programs, on its own Python by absolute path", () => {
    const { result } = build([sh('version', SLIM, 'gcloud version --format="value(core)" && echo "$$CLOUDSDK_PYTHON"')]);
    expect(result.steps[0].stderr).toBe('');
    const [core, cloudsdkPython] = result.steps[0].stdout.trim().split('\n');
    expect(core).toMatch(/^\d{4}\.\d{2}\.\d{2}$/);
    expect(path.isAbsolute(cloudsdkPython)).toBe(true);
  });
});

describe('the images the generated repository names', () => {
  it('are pinned by version: the Cloud SDK slim image and each Python by its patch release', () => {
    expect(CLOUD_SDK_IMAGE).toMatch(/^gcr\.io\/google\.com\/cloudsdktool\/google-cloud-cli:\d+\.\d+\.\d+-slim$/);
    for (const [minor, image] of Object.entries(PYTHON_IMAGES)) expect(image).toBe(`python:${PYTHON_PATCHES[minor]}-slim-trixie`);
  });

  describe.each(COMBOS)('$name', (combo) => {
    let dir: string;
    beforeAll(async () => {
      dir = await generate(combo);
    });

    it("give every step what it runs: its image is in the table and has the step's entrypoint", () => {
      const steps = buildConfigs(dir).flatMap((config) =>
        ((parse(read(dir, config)) as { steps: TestStep[] }).steps).map((s) => ({ config, ...s })));
      expect(steps.length).toBeGreaterThan(0);
      for (const step of steps) {
        expect(knownImages(), `${step.config} ${step.id}`).toContain(step.name);
        expect(imageContents(step.name).programs.has(step.entrypoint), `${step.config} ${step.id}: ${step.entrypoint} in ${step.name}`).toBe(true);
      }
      expect(new Set(steps.map((s) => s.name))).toEqual(new Set([CLOUD_SDK_IMAGE, PYTHON_IMAGES[combo.options.pythonVersion as keyof typeof PYTHON_IMAGES]]));
    });
  });
});
