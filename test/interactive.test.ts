// A person at a terminal: yo in tmux, a wrong answer, the rule, the question again.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ok, run, which } from './support/tools.js';
import { yoCommand, yoDir } from './support/yo.js';

const session = `arpypi-${process.pid}`;
const screen = () => run('tmux', ['capture-pane', '-p', '-t', session]).stdout;
const keys = (...k: string[]) => ok('tmux', ['send-keys', '-t', session, ...k]);

async function waitFor(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    const now = screen();
    if (typeof text === 'string' ? now.includes(text) : text.test(now)) return now;
    await sleep(100);
  }
  throw new Error(`the terminal never showed ${text}:\n${screen()}`);
}

const BIN = path.resolve(import.meta.dirname, '../dist/bin/arpypi.js');

describe('interactive prompts', () => {
  afterAll(() => {
    run('tmux', ['kill-session', '-t', session]);
    run('tmux', ['kill-session', '-t', `${session}-bin`]);
  });

  it('show the rule for a bad answer, ask again, and store the good one', async () => {
    which('tmux');
    const dir = yoDir('interactive');
    const { command, env } = yoCommand(['arpypi', '--project-id', 'acme-prod', '--github-owner', 'acme', '--package-name', 'acme-utils']);
    const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    const line = `cd '${dir}' && env ${exports} ${command.map((c) => `'${c}'`).join(' ')}; echo "EXIT=$?"; sleep 60`;
    ok('tmux', ['new-session', '-d', '-s', session, '-x', '200', '-y', '50', line]);

    await waitFor('Artifact Registry location');
    keys('mars1', 'Enter');
    await waitFor('"mars1" is not an Artifact Registry location; use a region such as us-east4 or europe-west1, or a multi-region: us, europe, asia.');
    keys(...Array(5).fill('BSpace'), 'europe-west1', 'Enter');
    for (const question of ['Artifact Registry repository id', 'GitHub repository name', 'Branch that releases and deploys', 'Python version', 'Cloud Functions region', 'How function builds authenticate']) {
      await waitFor(question);
      keys('Enter');
    }
    const end = await waitFor(/EXIT=\d+/, 30_000);
    expect(end).toContain('EXIT=0');
    const stored = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];
    expect(stored).toMatchObject({ region: 'europe-west1', functionRegion: 'europe-west1', repository: 'python-packages', auth: 'native', pythonVersion: '3.12' });
  });

  it('work the same way in the arpypi bin', async () => {
    const dir = yoDir('interactive-bin');
    const binSession = `${session}-bin`;
    const show = () => run('tmux', ['capture-pane', '-p', '-t', binSession]).stdout;
    const until = async (text: string | RegExp) => {
      for (let waited = 0; waited < 20_000; waited += 100) {
        const now = show();
        if (typeof text === 'string' ? now.includes(text) : text.test(now)) return now;
        await sleep(100);
      }
      throw new Error(`the terminal never showed ${text}:\n${show()}`);
    };
    const line = `cd '${dir}' && '${process.execPath}' '${BIN}' --project-id acme-prod --github-owner acme --package-name acme-utils; echo "EXIT=$?"; sleep 60`;
    ok('tmux', ['new-session', '-d', '-s', binSession, '-x', '200', '-y', '50', line]);
    await until('Artifact Registry location');
    ok('tmux', ['send-keys', '-t', binSession, 'mars1', 'Enter']);
    await until('"mars1" is not an Artifact Registry location');
    ok('tmux', ['send-keys', '-t', binSession, 'europe-west1', 'Enter']);
    for (const question of ['Artifact Registry repository id', 'GitHub repository name', 'Branch that releases and deploys', 'Python version', 'Cloud Functions region', 'How function builds authenticate']) {
      await until(question);
      ok('tmux', ['send-keys', '-t', binSession, 'Enter']);
    }
    const end = await until(/EXIT=\d+/);
    expect(end).toContain('EXIT=0');
    const stored = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'))['generator-arpypi'];
    expect(stored).toMatchObject({ region: 'europe-west1', functionRegion: 'europe-west1', repository: 'python-packages', auth: 'native', pythonVersion: '3.12' });
  });
});
