// `yo arpypi`: the repository command, through the yo door.
import { ArpypiGenerator } from '../yeoman/base.js';

export default class AppGenerator extends ArpypiGenerator {
  protected readonly command = 'app';
}
