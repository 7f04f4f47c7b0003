// Every command the two doors offer. A new command is a module here and a line below;
// each door then needs only its spelling (a Yeoman generator folder, a bin word).
import type { CommandName } from '../command-line.js';
import type { CommandRunner } from '../run.js';
import { decideApp } from './app.js';
import { decideFunction } from './function.js';

export const COMMANDS: Record<CommandName, CommandRunner> = { app: decideApp, function: decideFunction };
