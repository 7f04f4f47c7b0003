// A person at a terminal: a wrong answer, the rule, the question again, in both
// entry points (yo and the arpypi bin), each run in tmux.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ok, run, which } from './support/tools.js';
import { yoCommand, yoDir } from './support/yo.js';

const BIN = path.resolve(import.meta.dirname, '../dist/bin/arpypi.js');
const GIVEN = ['--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils'];
const sessions: string[] = [];

/** A tmux session running `command` in `dir`, with what a test needs to read and type. */
function terminal(dir: string, command: string[], env: Record<string, string> = {}) {
  which('tmux');
  const session = `arpypi-${process.pid}-${sessions.length}`;
  sessions.push(session);
  const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
  const line = `cd '${dir}' && env ${exports} ${command.map((c) => `'${c}'`).join(' ')}; echo "EXIT=$?"; sleep 60`;
  ok('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', line]);
  const screen = () => run('tmux', ['capture-pane', '-p', '-t', session]).stdout;
  return {
    keys: (...k: string[]) => ok('tmux', ['send-keys', '-t', session, ...k]),
    async waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
      for (let waited = 0; waited < timeoutMs; waited += 100) {
        const now = screen();
        if (typeof text === 'string' ? now.includes(text) : text.test(now)) return now;
        await sleep(100);
      }
      throw new Error(`the terminal never showed ${text}:\n${screen()}`);
    },
  };
}

/** Answers mars1 (refused), then europe-west1, then takes every default; returns what was stored. */
async function answerWithOneMistake(dir: string, t: ReturnType<typeof terminal>, clearTyped: boolean) {
  await t.waitFor('Artifact Registry location');
  t.keys('mars1', 'Enter');
  await t.waitFor('"mars1" is not an Artifact Registry location; use a region such as us-east4 or europe-west1, or a multi-region: us, europe, asia.');
  // yo's prompt keeps the refused text on the line; the bin asks afresh.
  t.keys(...(clearTyped ? Array(5).fill('BSpace') : []), 'europe-west1', 'Enter');
  for (const question of ['Artifact Registry repository id', 'Git host', 'GitHub repository name', 'Branch that releases and deploys', 'Cloud Build triggers', 'Cloud Build connection', 'Python version', 'Cloud Functions region', 'How function builds authenticate', 'Python index layout']) {
    await t.waitFor(question);
    t.keys('Enter');
  }
  expect(await t.waitFor(/EXIT=\d+/)).toContain('EXIT=0');
  return JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];
}

const EXPECTED = { region: 'europe-west1', functionRegion: 'europe-west1', repository: 'python-packages', auth: 'native', pythonVersion: '3.12', index: 'virtual' };

describe('interactive prompts', () => {
  afterAll(() => {
    for (const session of sessions) run('tmux', ['kill-session', '-t', session]);
  });

  it('show the rule for a bad answer, ask again, and store the good one', async () => {
    const dir = yoDir('interactive');
    const { command, env } = yoCommand(['arpypi', ...GIVEN]);
    expect(await answerWithOneMistake(dir, terminal(dir, command, env), true)).toMatchObject(EXPECTED);
  });

  it('work the same way in the arpypi bin', async () => {
    const dir = yoDir('interactive-bin');
    expect(await answerWithOneMistake(dir, terminal(dir, [process.execPath, BIN, ...GIVEN]), false)).toMatchObject(EXPECTED);
  });

  it('yo arpypi:function without NAME asks for the name, then every function flag, with the rules', async () => {
    const dir = yoDir('interactive-function');
    ok(process.execPath, [BIN, ...GIVEN, '--yes'], { cwd: dir });
    // yo, as root, runs as uid 1000: the repository is that user's.
    if (process.getuid?.() === 0) ok('chown', ['-R', '1000:1000', dir]);
    const { command, env } = yoCommand(['arpypi:function']);
    const t = terminal(dir, command, env);
    await t.waitFor('Function name');
    t.keys('Bad_Name', 'Enter');
    await t.waitFor('"Bad_Name" is not a function name');
    t.keys(...Array(8).fill('BSpace'), 'api', 'Enter');
    await t.waitFor('Trigger: http, topic:TOPIC or bucket:BUCKET');
    t.keys('topic:jobs', 'Enter');
    await t.waitFor('Python runtime');
    t.keys('Enter');
    await t.waitFor('Memory of each instance');
    t.keys('64Mi', 'Enter');
    await t.waitFor('"64Mi" is outside what a 2nd gen function can have');
    t.keys(...Array(4).fill('BSpace'), '512Mi', 'Enter');
    await t.waitFor('Timeout in seconds');
    t.keys('600s', 'Enter');
    await t.waitFor('"600s" is over 540s');
    t.keys(...Array(4).fill('BSpace'), '300s', 'Enter');
    await t.waitFor('Entry point');
    t.keys('Enter');
    await t.waitFor('Public: may anyone on the internet call it');
    t.keys('Enter');
    const screen = await t.waitFor(/EXIT=\d+/);
    expect(screen).toContain('EXIT=0');
    expect(screen).toContain('Next: bash scripts/setup-gcp.sh');
    const stored = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];
    // The runtime offered (python312) follows the Python version, so none is stored.
    expect(stored.functions.api).toEqual({
      name: 'api', trigger: 'topic:jobs', memory: '512Mi', timeout: '300s', entryPoint: 'handler', allowUnauthenticated: false,
    });
  });

  it('the auth question explains each choice, and a multi-region suggests a functions region', async () => {
    const dir = yoDir('interactive-explain');
    const t = terminal(dir, [process.execPath, BIN, '--project-id', 'acme-prod', '--package-name', 'acme-utils', '--region', 'europe']);
    await t.waitFor('Artifact Registry repository id');
    t.keys('Enter');
    await t.waitFor('Git host');
    t.keys('Enter');
    await t.waitFor('GitHub owner');
    t.keys('Enter');
    await t.waitFor('GitHub owner (user or organisation) is required.');
    t.keys('acme', 'Enter');
    for (const question of ['GitHub repository name', 'Branch that releases and deploys']) {
      await t.waitFor(question);
      t.keys('Enter');
    }
    // The triggers' question explains each choice; the connection's default follows the host.
    const triggers = await t.waitFor('Cloud Build triggers');
    expect(triggers).toContain('connection: Cloud Build repositories (2nd gen): a connection to GitHub or GitLab, builds in the functions region (recommended)');
    t.keys('Enter');
    await t.waitFor('Cloud Build connection (made by scripts/setup-gcp.sh when missing) [arpypi-github]');
    t.keys('Enter');
    for (const question of ['Python version']) {
      await t.waitFor(question);
      t.keys('Enter');
    }
    await t.waitFor('Cloud Functions region [europe-west1]');
    t.keys('Enter');
    const screen = await t.waitFor('How function builds authenticate');
    expect(screen).toContain("native: the function build's own service account reads the repository (recommended)");
    expect(screen).toContain('token: a short-lived access token is written into requirements.txt at deploy time');
    t.keys('Enter');
    await t.waitFor('Python index layout');
    t.keys('Enter');
    expect(await t.waitFor(/EXIT=\d+/)).toContain('EXIT=0');
    expect(JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi']).toMatchObject({
      region: 'europe', functionRegion: 'europe-west1', githubOwner: 'acme', gitHost: 'github', triggers: 'connection', connection: 'arpypi-github',
    });
  });
});
