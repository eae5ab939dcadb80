/**
 * Prints the README's error table from the catalogue: each code with its message, arguments shown
 * as `…`. `test/errors.test.ts` checks that the README has every code and the catalogue every one
 * the README lists.
 */
import { errors } from '../agent/errors.js';

/** A stand-in for any argument: text as `…`, a list as `…`, a number as `N`. */
const any = new Proxy([] as unknown[], {
  get: (t, k) =>
    k === Symbol.toPrimitive
      ? (hint: string) => (hint === 'number' ? Number.NaN : '…')
      : k === 'join'
        ? () => '…'
        : k === 'length'
          ? 1
          : Reflect.get(t, k),
});

/** For the codes whose message is all the caller's words: what they are about. */
const ABOUT: Record<string, string> = {
  PITCREW_CONFIG_INVALID: 'the config does not validate: every problem as file:line:column key.path: reason',
  PITCREW_LOGIC_INVALID: 'a JsonLogic expression does not compile: the operator or the shape at fault',
  PITCREW_TEMPLATE_INVALID: 'a template (`{{ … }}`) does not parse',
  PITCREW_PATTERN_INVALID: 'an event pattern does not parse, or a `re:` pattern could backtrack without end',
  PITCREW_DRIVER_ERROR: "a driver's device or source failed: the device's own reason",
  PITCREW_REPLAY_LINE: 'a line of a replay file is not an event',
  PITCREW_CLI_ARG: 'a command-line argument is wrong: which one, and what it takes',
};

console.log('| code | message |\n|---|---|');
for (const make of Object.values(errors) as ((...a: unknown[]) => Error & { code: string })[]) {
  const message = make(any, any, any, any).message.replaceAll('NaN', 'N').replaceAll('|', '\\|');
  const { code } = make(any, any, any, any);
  console.log(`| \`${code}\` | ${ABOUT[code] ?? message} |`);
}
