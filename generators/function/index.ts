// `yo arpypi:function NAME`: the function command, through the yo door.
import { ArpypiGenerator } from '../yeoman/base.js';

export default class FunctionGenerator extends ArpypiGenerator {
  protected readonly command = 'function';
}
