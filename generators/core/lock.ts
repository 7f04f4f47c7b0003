// One run at a time in a repository: a lock file under .arpypi/ that names the run holding
// it. A second run waits a little for it, then is refused with a sentence naming the first;
// a lock whose process is gone is taken over. While the lock is held, SIGINT, SIGTERM and
// SIGHUP end the run between steps, never inside a commit (commit.ts is synchronous, and
// Node runs a signal's handler only once the running code returns).
import { mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from './answers.js';
import { STATE_DIR } from './bases.js';
import { causeOf } from './disk.js';

export const LOCK_FILE = `${STATE_DIR}/lock`;
/** How long a run waits for another one before it is refused. */
const WAIT_MS = 5_000;
const POLL_MS = 25;
/** A lock file still empty or unreadable after this long was left half-written by a run that died. */
const HALF_WRITTEN_MS = 10_000;

interface Holder {
  pid: number;
  host: string;
  started: string;
  command: string;
  /** The process's start time in clock ticks (Linux), so that a reused pid is not taken for the holder. */
  ticks?: string;
}

export interface Lock {
  /** False when a run that writes nothing (--dry-run) could not make the lock file (a read-only checkout). */
  held: boolean;
  /** Ends the hold: the lock file goes, and .arpypi/ too when the run made it and left it empty. */
  release(): void;
}

let host: string | undefined;
/** This machine's name, as os.hostname() gives it; read from /proc where there is one, since loading node:os costs start-up time. */
export function hostname(): string {
  if (host === undefined) {
    try {
      host = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim();
    } catch {
      host = process.getBuiltinModule('node:os').hostname();
    }
  }
  return host;
}

/** Field 22 of /proc/PID/stat, the process's start time; undefined where there is no /proc. */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(holder: Holder): boolean {
  // Another machine's process (a shared folder) cannot be looked at: it counts as running.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return holder.ticks === undefined || startTicks(holder.pid) === undefined || startTicks(holder.pid) === holder.ticks;
}

/** The lock's text and holder; 'gone' when it vanished meanwhile, undefined holder when it is not (yet) readable. */
function readLock(file: string): { text: string; holder?: Holder; age: number } | 'gone' {
  try {
    const text = readFileSync(file, 'utf8');
    const age = Date.now() - statSync(file).mtimeMs;
    try {
      const holder = JSON.parse(text) as Holder;
      return Number.isInteger(holder?.pid) && holder.pid > 0 ? { text, holder, age } : { text, age };
    } catch {
      return { text, age };
    }
  } catch {
    return 'gone';
  }
}

/** Removes a dead run's lock, unless another run replaced it meanwhile: one taker at a time, under a guard file. */
function takeOver(file: string, staleText: string): void {
  const guard = `${file}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx' });
  } catch {
    // Another run is taking over; a guard left by a run that died there is old, and goes.
    try {
      if (Date.now() - statSync(guard).mtimeMs > HALF_WRITTEN_MS) unlinkSync(guard);
    } catch {
      // gone already
    }
    return;
  }
  try {
    if (readFileSync(file, 'utf8') === staleText) unlinkSync(file);
  } catch {
    // gone already
  } finally {
    unlinkSync(guard);
  }
}

const refusal = (holder: Holder): string => {
  const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on ${holder.host}`;
  return `Another run is working in this repository (${holder.command}, ${where}, started ${holder.started}); wait for it to end, then run again (if it is no longer running, delete ${LOCK_FILE}).`;
};

const SIGNALS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

const READ_ONLY = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * Takes the repository's lock for a run of `command` (as the user typed it), waiting up to
 * a few seconds for another run to end. `readOnly`: a run that writes nothing goes on without
 * the lock where it may not write one. `stopped` words what a signal that ends the run says.
 */
export async function takeLock(root: string, command: string, readOnly: boolean, stopped: (signal: string) => string): Promise<Lock> {
  const dir = path.join(root, STATE_DIR);
  const file = path.join(root, LOCK_FILE);
  const ticks = startTicks(process.pid);
  const me: Holder = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command,
    ...(ticks !== undefined ? { ticks } : {}),
  };
  const text = JSON.stringify(me);
  let madeDir = false;
  let held = false;
  // Listening before anything is made: a signal from here on ends the run only between steps.
  const release = () => {
    process.off('exit', release);
    for (const signal of Object.keys(SIGNALS)) process.off(signal, onSignal);
    try {
      if (held && readFileSync(file, 'utf8') === text) unlinkSync(file);
    } catch {
      // gone already
    }
    held = false;
    if (!madeDir) return;
    madeDir = false;
    try {
      rmdirSync(dir);
    } catch {
      // the run wrote into it (the merge bases): it stays
    }
  };
  const onSignal = (signal: keyof typeof SIGNALS) => {
    release();
    process.stderr.write(`${stopped(signal)}\n`);
    process.exit(SIGNALS[signal]);
  };
  process.on('exit', release);
  for (const signal of Object.keys(SIGNALS)) process.on(signal, onSignal);
  const cannot = (error: unknown): Lock => {
    release();
    if (readOnly && READ_ONLY.has((error as NodeJS.ErrnoException).code ?? '')) return { held: false, release: () => {} };
    throw new UsageError(`Could not write ${LOCK_FILE}: ${causeOf(error)}; nothing was written.`);
  };

  try {
    mkdirSync(dir);
    madeDir = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return cannot(error);
  }
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      writeFileSync(file, text, { flag: 'wx' });
      held = true;
      return { held: true, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return cannot(error);
    }
    const found = readLock(file);
    if (found === 'gone') continue;
    if (found.holder ? !alive(found.holder) : found.age > HALF_WRITTEN_MS) {
      takeOver(file, found.text);
      continue;
    }
    if (Date.now() > deadline) {
      release();
      throw new UsageError(found.holder ? refusal(found.holder) : `Another run is starting in this repository (${LOCK_FILE} is being written); run again in a moment.`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
