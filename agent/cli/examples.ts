import type { Command } from 'commander';

/**
 * Each command's Examples, by its path under `pitcrew`; every command has some (a test walks the
 * tree). A line is the command, then two spaces or more and what it does, or the command alone.
 */
export const EXAMPLES: Record<string, readonly string[]> = {
  '': [
    'pitcrew run                              run the agent on the default config',
    'pitcrew run -c config/examples/obd-gnss.yaml --events',
    'pitcrew status                           ask the running agent how it is',
    'pitcrew tap "vehicle/#"                  watch its events',
    `pitcrew call obd query '{"pid":"RPM"}'`,
    'pitcrew replay drive.jsonl               try the rules on a recorded drive',
    'pitcrew validate                         check the config and everything it includes',
  ],
  validate: [
    'pitcrew validate                         the default config and everything it includes',
    'pitcrew validate pitcrew.yaml            another config (the same as -c pitcrew.yaml)',
  ],
  schema: [
    'pitcrew schema > pitcrew.schema.json     for editors: # yaml-language-server: $schema=…',
    "pitcrew schema desired-status            a wire format's schema",
  ],
  run: [
    'pitcrew run                              the default config',
    'pitcrew run -c /etc/pitcrew/pitcrew.yaml',
    'pitcrew run --events | jq -c .           every bus event on stdout, logs on stderr',
    'pitcrew run --time-scale 60              an hour a minute (the simulated vehicle)',
  ],
  tap: [
    'pitcrew tap                              every event',
    "pitcrew tap 'vehicle/obd/+'              OBD readings",
    "pitcrew tap 'system/#' -n 1              wait for the next system event",
    "pitcrew tap | jq -c 'select(.data.value > 3000)'",
  ],
  status: [
    'pitcrew status',
    'pitcrew status | jq .cloud               piped (or --json): JSON',
    'pitcrew status -c /etc/pitcrew/pitcrew.yaml',
  ],
  rollout: [
    'pitcrew rollout status                   the running commit or bundle, the last one tried, the bad ones',
    'pitcrew rollout pull                     fetch from git (or reload the file) now',
  ],
  power: [
    'pitcrew power status                     battery, the next action and why, inhibitors, last wake',
    'pitcrew power status --json',
  ],
  update: [
    'pitcrew update status                    desired status, state and download progress',
    'pitcrew update start fota                install now what waits for its trigger',
    'pitcrew update cancel sota',
  ],
  signals: [
    'pitcrew signals                          every signal with its age',
    "pitcrew signals 'signals.obd.*'",
    'pitcrew signals rpm                      those whose name has the word',
    'pitcrew signals --json | jq -c .',
  ],
  worker: [
    'pitcrew worker list',
    'pitcrew worker pause obd fast',
    'pitcrew worker resume obd fast',
    'pitcrew worker kill obd fast             stop it until started again',
  ],
  emit: ['pitcrew emit trip/start', `pitcrew emit vehicle/engine/started '{"rpm": 820}'`],
  rules: ['pitcrew rules', "pitcrew rules | jq -c '.[] | select(.errors > 0) | {name, errors}'"],
  trace: [
    'pitcrew trace overspeed                  the last runs of a rule',
    'pitcrew trace overspeed | tail -1 | jq .',
  ],
  call: [
    `pitcrew call obd query '{"pid":"RPM"}'`,
    'pitcrew call obd dtc',
    `pitcrew call obd raw '{"command":"ATDP"}' --timeout 30s`,
  ],
  replay: [
    "pitcrew replay drive.jsonl               the default config's rules over a recorded drive",
    "pitcrew replay -c candidate.yaml drive.jsonl | jq -c 'select(.ran)'",
  ],
  logic: [
    `pitcrew logic '{">": [{"var": "speed"}, 100]}' '{"speed": 120}'`,
    `pitcrew logic '{"in_timetable": [{"day_of_week": 1, "time_slots": [{"start": "08:00", "end": "17:00"}]}]}' --timezone Europe/Oslo`,
  ],
  can: ['pitcrew can decode --dbc vw_mqb.dbc drive.log | head'],
  'can decode': [
    'pitcrew can decode --dbc vw_mqb.dbc drive.log | head',
    'candump -L can0 | pitcrew can decode --dbc body.dbc powertrain.dbc -',
    `pitcrew can decode --dbc car.dbc drive.log | jq -c 'select(.message == "ESP_21")'`,
  ],
  new: ['pitcrew new service greeter              greeter/service.js, its test and a config that runs it'],
  import: ['pitcrew import autopi pillar.sls -o pitcrew.yaml    then: pitcrew validate -c pitcrew.yaml'],
  'import autopi': [
    'pitcrew import autopi pillar.sls -o pitcrew.yaml    what it could not convert: on stderr, by line',
    'pitcrew import autopi tyre_monitor.yaml > tyre.yaml 2> not-converted.txt',
  ],
  fleet: [
    "pitcrew fleet status --url mqtt://127.0.0.1:1883 --prefix 'pitcrew/+'",
    'pitcrew fleet rollout --url mqtt://127.0.0.1:1883 --bundle v8.signed.json --all --waves 1%,10%,100% --max-failures 5%',
  ],
  'fleet status': [
    "pitcrew fleet status --url mqtts://broker.example:8883 --ca ca.pem --cert fleet.pem --key fleet.key --prefix 'pitcrew/+'",
    "pitcrew fleet status --url mqtt://127.0.0.1:1883 --json | jq -c 'select(.online == false)'",
    'pitcrew fleet status --url mqtt://127.0.0.1:1883 --watch',
  ],
  'fleet rollout': [
    'pitcrew fleet rollout --url mqtt://127.0.0.1:1883 --bundle v8.signed.json --all --waves 1%,10%,100% --max-failures 5% \\\n      --wave-timeout 10m --rollback v9-is-v7.signed.json',
    'pitcrew fleet rollout --url mqtt://127.0.0.1:1883 --desired desired-12.signed.json --units vans.txt --waves 2,50%,100%',
    `pitcrew fleet rollout --url mqtt://127.0.0.1:1883 --bundle v8.signed.json --select '{"==": [{"var": "bundle"}, 7]}'`,
    'pitcrew fleet rollout --url mqtt://127.0.0.1:1883 --resume 3fa2c9d1',
  ],
  'fleet rollouts': [
    'pitcrew fleet rollouts',
    'pitcrew fleet rollouts --json | jq -c \'select(.state == "running")\'',
  ],
  test: ["pitcrew test greeter/service.test.js    the module's tests, `pitcrew` resolved to this agent"],
  keygen: [
    'pitcrew keygen -o fleet.key              fleet.key (keep it off the units) and fleet.key.pub (for trust.keys)',
  ],
  snapshot: [
    'pitcrew snapshot                         after a Node.js upgrade: the next start is fast again',
  ],
  bundle: [
    'pitcrew bundle sign -k fleet.key rules-v7.yaml > bundle.signed.json',
    'pitcrew bundle push --url mqtt://127.0.0.1:1883 --unit van-042 bundle.signed.json',
  ],
  'bundle sign': ['pitcrew bundle sign -k fleet.key rules-v7.yaml > bundle.signed.json'],
  'bundle push': [
    'pitcrew bundle push --url mqtts://broker.example:8883 --ca ca.pem --cert fleet.pem --key fleet.key \\\n      --unit van-042 bundle.signed.json',
    "pitcrew bundle push --url mqtt://127.0.0.1:1883 --unit van-042 --prefix 'fleet/{{ unit.id }}' bundle.signed.json",
  ],
  desired: [
    'pitcrew desired sign -k fleet.key desired-12.yaml > desired.signed.json',
    'pitcrew desired push --url mqtt://127.0.0.1:1883 --unit van-042 desired.signed.json',
  ],
  'desired sign': ['pitcrew desired sign -k fleet.key desired-12.yaml > desired.signed.json'],
  'desired push': [
    'pitcrew desired push --url mqtts://broker.example:8883 --ca ca.pem --cert fleet.pem --key fleet.key \\\n      --unit van-042 desired.signed.json',
    'PITCREW_MQTT_PASSWORD=… pitcrew desired push --url mqtt://broker:1883 --username fleet --unit van-042 desired.signed.json',
  ],
};

/** The path of a command under the program: `can decode`, `` for the program itself. */
export function commandPath(c: Command): string {
  const names: string[] = [];
  for (let at: Command | null = c; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** Adds each command's Examples after its help, for the whole tree under `program`. */
export function addExamples(program: Command): void {
  const walk = (c: Command) => {
    const lines = EXAMPLES[commandPath(c)];
    if (lines) c.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
    for (const sub of c.commands) walk(sub);
  };
  walk(program);
}
