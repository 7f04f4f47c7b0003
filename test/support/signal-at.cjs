// Preloaded into a run (node --require) to deliver a signal at a chosen point of it, with no
// hook in the generator: it counts the file-system changes the process makes (the same count
// on every run of the same command) and, just before the Nth, sends itself the signal.
//   ARPYPI_SIGNAL_AT=N:SIGNAL[:CALL]  deliver SIGNAL before change N (1-based), counting
//                                     only CALL (renameSync, say) when given
//   ARPYPI_COUNT_TO=FILE              write the number of changes made to FILE at exit
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const [at, signal, only] = (process.env.ARPYPI_SIGNAL_AT ?? '').split(':');
const countTo = process.env.ARPYPI_COUNT_TO;
const writeFileSync = fs.writeFileSync;
let changes = 0;

for (const name of ['mkdirSync', 'writeFileSync', 'renameSync', 'unlinkSync', 'rmdirSync', 'rmSync', 'chmodSync']) {
  const original = fs[name];
  fs[name] = function counted(...args) {
    if (only !== undefined && only !== name) return original.apply(this, args);
    changes += 1;
    if (String(changes) === at) process.kill(process.pid, signal);
    return original.apply(this, args);
  };
}
// ES modules (the bundled bin) import node:fs's functions by name: point those at the counted ones.
syncBuiltinESMExports();

if (countTo) process.on('exit', () => writeFileSync(countTo, String(changes)));
