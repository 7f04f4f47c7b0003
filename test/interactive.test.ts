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
  for (const question of ['Artifact Registry repository id', 'GitHub repository name', 'Branch that releases and deploys', 'Python version', 'Cloud Functions region', 'How function builds authenticate']) {
    await t.waitFor(question);
    t.keys('Enter');
  }
  expect(await t.waitFor(/EXIT=\d+/)).toContain('EXIT=0');
  return JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];
}

const EXPECTED = { region: 'europe-west1', functionRegion: 'europe-west1', repository: 'python-packages', auth: 'native', pythonVersion: '3.12' };

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
});
