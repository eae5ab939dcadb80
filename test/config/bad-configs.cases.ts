/**
 * Bad configs and the exact errors they must produce. `files` are written to a fresh directory;
 * `main.yaml` is loaded. `schema` says whether the JSON Schema alone must reject the config too
 * (false: a semantic check that JSON Schema cannot express).
 */
export interface BadCase {
  name: string;
  files: Record<string, string>;
  env?: Record<string, string>;
  errors: [file: string, line: number, column: number, path: string, message: string][];
  schema: boolean;
}

const svc = (body: string) => `version: 1
services:
  obd:
    driver: sim-vehicle
    settings: {}
${body}`;

const rule = (body: string) => `version: 1
reactor:
  rules:
    - name: r1
      on: vehicle/engine/running
${body}`;

const DURATION = 'expected a duration such as 250ms, 30s, 5m, 2h, 30d or a number of seconds';

export const BAD_CASES: BadCase[] = [
  {
    name: 'wrong type for a duration',
    files: { 'main.yaml': 'version: 1\nstatus:\n  window: true\n' },
    errors: [['main.yaml', 3, 11, 'status.window', DURATION]],
    schema: true,
  },
  {
    name: 'wrong type for a number',
    files: { 'main.yaml': svc('').replace('settings: {}', 'settings: { speedup: fast }') },
    errors: [['main.yaml', 5, 26, 'services.obd.settings.speedup', "expected number, got 'fast'"]],
    schema: true,
  },
  {
    name: 'unknown top-level key with a suggestion',
    files: { 'main.yaml': 'version: 1\nservces: {}\n' },
    errors: [['main.yaml', 2, 1, 'servces', "unknown key 'servces' (did you mean 'services'?)"]],
    schema: true,
  },
  {
    name: 'unknown driver setting',
    files: {
      'main.yaml':
        'version: 1\nservices:\n  obd:\n    driver: elm327\n    settings: { port: /dev/ttyUSB0, protocl: 6 }\n',
    },
    errors: [
      [
        'main.yaml',
        5,
        37,
        'services.obd.settings.protocl',
        "unknown key 'protocl' (did you mean 'protocol'?)",
      ],
    ],
    schema: true,
  },
  {
    // Another driver's key is no suggestion: 'module' is the module driver's, not sim-vehicle's.
    name: "a key of another driver's settings",
    files: {
      'main.yaml':
        'version: 1\nservices:\n  car:\n    driver: sim-vehicle\n    settings: { module: x, sed: 1 }\n',
    },
    errors: [
      [
        'main.yaml',
        5,
        17,
        'services.car.settings.module',
        "unknown key 'module'; expected one of 'cycle', 'speedup', 'seed', 'route', 'vin', 'dtc_rate'",
      ],
      ['main.yaml', 5, 28, 'services.car.settings.sed', "unknown key 'sed' (did you mean 'seed'?)"],
    ],
    schema: true,
  },
  {
    name: 'bad duration string',
    files: {
      'main.yaml': svc(
        '    workers:\n      - name: w\n        interval: 1 sec\n        messages: [{ handler: vin }]\n',
      ),
    },
    errors: [['main.yaml', 8, 19, 'services.obd.workers[0].interval', DURATION]],
    schema: true,
  },
  {
    name: 'negative duration',
    files: { 'main.yaml': rule('      throttle: -5\n      do: [{ log: { message: hi } }]\n') },
    errors: [['main.yaml', 6, 17, 'reactor.rules[0].throttle', DURATION]],
    schema: true,
  },
  {
    name: 'bad cron',
    files: {
      'main.yaml': svc(
        '    workers:\n      - name: w\n        cron: "61 * * * * *"\n        messages: [{ handler: vin }]\n',
      ),
    },
    errors: [
      [
        'main.yaml',
        8,
        15,
        'services.obd.workers[0].cron',
        "bad cron expression '61 * * * * *' (second: 61 is a invalid expression for second)",
      ],
    ],
    schema: false,
  },
  {
    name: 'worker with both interval and cron',
    files: {
      'main.yaml': svc(
        '    workers:\n      - name: w\n        interval: 1s\n        cron: "* * * * * *"\n        messages: [{ handler: vin }]\n',
      ),
    },
    errors: [
      ['main.yaml', 7, 9, 'services.obd.workers[0]', 'a worker takes an interval or a cron, not both'],
    ],
    schema: true,
  },
  {
    name: 'timetable day out of range',
    files: {
      'main.yaml': `version: 1
updates:
  trust: { keys: [k.pub] }
  fota:
    schedule:
      type: timetable
      timetable: [{ day_of_week: [1, 8], time_slots: [{ start: "02:00", end: "04:00" }] }]
`,
    },
    errors: [
      [
        'main.yaml',
        7,
        38,
        'updates.fota.schedule.timetable[0].day_of_week[1]',
        'days run 1 (Monday) to 7 (Sunday)',
      ],
    ],
    schema: true,
  },
  {
    name: 'timetable slot that ends before it starts',
    files: {
      'main.yaml': `version: 1
updates:
  trust: { keys: [k.pub] }
  sota:
    schedule:
      type: timetable
      timetable: [{ day_of_week: 2, time_slots: [{ start: "04:00", end: "02:00" }] }]
`,
    },
    errors: [
      ['main.yaml', 7, 50, 'updates.sota.schedule.timetable[0].time_slots[0]', 'start must be before end'],
    ],
    schema: false,
  },
  {
    name: 'timetable time not HH:MM',
    files: {
      'main.yaml': `version: 1
updates:
  trust: { keys: [k.pub] }
  sota:
    schedule:
      type: timetable
      timetable: [{ day_of_week: 2, time_slots: [{ start: "2am", end: "04:00" }] }]
`,
    },
    errors: [
      ['main.yaml', 7, 59, 'updates.sota.schedule.timetable[0].time_slots[0].start', 'expected a time HH:MM'],
    ],
    schema: true,
  },
  {
    name: 'unknown hook',
    files: { 'main.yaml': svc('    hooks:\n      - { name: eng, kind: trigger, use: engine_stat }\n') },
    errors: [
      [
        'main.yaml',
        7,
        42,
        'services.obd.hooks[0].use',
        "unknown trigger 'engine_stat' (did you mean 'engine_state'?)",
      ],
    ],
    schema: false,
  },
  {
    name: 'unknown step in a message',
    files: {
      'main.yaml': svc(
        '    workers:\n      - name: w\n        interval: 1s\n        messages: [{ handler: vin, filter: chnged }]\n',
      ),
    },
    errors: [
      [
        'main.yaml',
        9,
        44,
        'services.obd.workers[0].messages[0].filter',
        "unknown filter 'chnged' (did you mean 'changed'?)",
      ],
    ],
    schema: false,
  },
  {
    name: 'hook used as the wrong kind',
    files: {
      'main.yaml': svc(
        '    hooks:\n      - { name: tenth, kind: converter, use: round }\n    workers:\n      - name: w\n        interval: 1s\n        messages: [{ handler: vin, returner: tenth }]\n',
      ),
    },
    errors: [
      [
        'main.yaml',
        11,
        46,
        'services.obd.workers[0].messages[0].returner',
        "'tenth' is a converter, not a returner",
      ],
    ],
    schema: false,
  },
  {
    name: 'unknown handler for the driver',
    files: {
      'main.yaml': svc(
        '    workers:\n      - name: w\n        interval: 1s\n        messages: [{ handler: qery }]\n',
      ),
    },
    errors: [
      [
        'main.yaml',
        9,
        31,
        'services.obd.workers[0].messages[0].handler',
        "unknown handler 'qery' (did you mean 'query'?); this driver has query, dtc, clear_dtc, vin, voltage, raw, location",
      ],
    ],
    schema: false,
  },
  {
    name: 'unknown driver',
    files: { 'main.yaml': 'version: 1\nservices:\n  obd:\n    driver: elm372\n    settings: {}\n' },
    errors: [
      [
        'main.yaml',
        4,
        13,
        'services.obd.driver',
        "unknown driver 'elm372' (did you mean 'elm327'?); expected one of 'elm327', 'sim-vehicle', 'can', 'nmea', 'motion', 'modem', 'power_supply', 'module'",
      ],
    ],
    schema: true,
  },
  {
    name: 'duplicate rule across two included files',
    files: {
      'main.yaml': 'version: 1\ninclude: [rules/*.yaml]\n',
      'rules/a.yaml':
        'reactor:\n  rules:\n    - name: dup\n      on: x\n      do: [{ log: { message: a } }]\n',
      'rules/b.yaml':
        'reactor:\n  rules:\n    - name: ok\n      on: y\n      do: [{ stop: null }]\n    - name: dup\n      on: z\n      do: [{ log: { message: b } }]\n',
    },
    errors: [
      [
        'rules/b.yaml',
        6,
        13,
        'reactor.rules[2].name',
        "rule 'dup' is defined twice: here and at <dir>/rules/a.yaml:3:13",
      ],
    ],
    schema: false,
  },
  {
    name: 'duplicate service across files',
    files: {
      'main.yaml':
        'version: 1\ninclude: extra.yaml\nservices:\n  obd: { driver: sim-vehicle, settings: {} }\n',
      'extra.yaml': 'services:\n  obd: { driver: sim-vehicle, settings: { seed: 2 } }\n',
    },
    errors: [
      ['extra.yaml', 2, 3, 'services.obd', "service 'obd' is defined twice: here and at <dir>/main.yaml:4:3"],
    ],
    schema: false,
  },
  {
    name: 'duplicate worker in a service',
    files: {
      'main.yaml': svc(
        '    workers:\n      - { name: w, interval: 1s, messages: [{ handler: vin }] }\n      - { name: w, interval: 2s, messages: [{ handler: vin }] }\n',
      ),
    },
    errors: [
      [
        'main.yaml',
        8,
        17,
        'services.obd.workers[1].name',
        "worker 'w' is defined twice: here and at <dir>/main.yaml:7:17",
      ],
    ],
    schema: false,
  },
  {
    name: 'bad JsonLogic operator',
    files: {
      'main.yaml': rule(
        '      when: { and: [{ ">": [{ var: signals.obd.speed }, 5] }, { equals: [1, 1] }] }\n      do: [{ stop: null }]\n',
      ),
    },
    errors: [
      ['main.yaml', 6, 65, 'reactor.rules[0].when.and[1].equals', "unknown JsonLogic operator 'equals'"],
    ],
    schema: false,
  },
  {
    name: 'JsonLogic typo with a suggestion',
    files: { 'main.yaml': rule('      when: { "===": [{ vra: x }, 1] }\n      do: [{ stop: null }]\n') },
    errors: [
      [
        'main.yaml',
        6,
        25,
        'reactor.rules[0].when.===[0].vra',
        "unknown JsonLogic operator 'vra' (did you mean 'var'?)",
      ],
    ],
    schema: false,
  },
  {
    name: 'template syntax error',
    files: { 'main.yaml': rule('      do:\n        - log: { message: "speed {{ signals.obd.speed" }\n') },
    errors: [
      [
        'main.yaml',
        7,
        27,
        'reactor.rules[0].do[0].log.message',
        "unbalanced '{{' / '}}' in 'speed {{ signals.obd.speed'",
      ],
    ],
    schema: false,
  },
  {
    name: 'template with an expression',
    files: {
      'main.yaml': rule('      do:\n        - emit: { tag: x, data: { v: "{{ event.data.v * 2 }}" } }\n'),
    },
    errors: [
      [
        'main.yaml',
        7,
        38,
        'reactor.rules[0].do[0].emit.data.v',
        "'{{ event.data.v * 2 }}' is not a path (use names joined by dots, like event.data.speed)",
      ],
    ],
    schema: false,
  },
  {
    name: 'missing required keys',
    files: {
      'main.yaml':
        'version: 1\nservices:\n  obd: { driver: elm327 }\nreactor:\n  rules:\n    - name: r\n      on: x\n',
    },
    errors: [
      ['main.yaml', 3, 8, 'services.obd.settings', "missing required key 'settings'"],
      ['main.yaml', 6, 7, 'reactor.rules[0].do', "missing required key 'do'"],
    ],
    schema: true,
  },
  {
    name: 'missing version',
    files: { 'main.yaml': 'unit: { id: x }\n' },
    errors: [['main.yaml', 1, 1, 'version', "missing required key 'version'"]],
    schema: true,
  },
  {
    name: 'unsupported version',
    files: { 'main.yaml': 'version: 2\n' },
    errors: [['main.yaml', 1, 10, 'version', 'version must be 1']],
    schema: true,
  },
  {
    name: 'env var missing without default',
    files: { 'main.yaml': 'version: 1\nunit:\n  id: ${env:PITCREW_TEST_UNSET_VAR}\n' },
    errors: [
      [
        'main.yaml',
        3,
        7,
        'unit.id',
        'environment variable PITCREW_TEST_UNSET_VAR is not set and has no default',
      ],
    ],
    // Substituted as an empty id, which the schema rejects too; the error is given once.
    schema: true,
  },
  {
    name: 'env var missing where an empty value would be valid',
    files: { 'main.yaml': 'version: 1\ncloud:\n  mqtt: { url: "mqtt://${env:PITCREW_TEST_HOST}:1883" }\n' },
    errors: [
      [
        'main.yaml',
        3,
        16,
        'cloud.mqtt.url',
        'environment variable PITCREW_TEST_HOST is not set and has no default',
      ],
    ],
    schema: false,
  },
  {
    name: 'env var substituted with the wrong type',
    files: { 'main.yaml': 'version: 1\nstatus:\n  window: ${env:PITCREW_TEST_WINDOW}\n' },
    env: { PITCREW_TEST_WINDOW: 'soon' },
    errors: [['main.yaml', 3, 11, 'status.window', DURATION]],
    schema: true,
  },
  {
    name: 'unknown action with a suggestion',
    files: { 'main.yaml': rule('      do:\n        - emti: { tag: x }\n') },
    errors: [
      ['main.yaml', 7, 11, 'reactor.rules[0].do[0].emti', "unknown key 'emti' (did you mean 'emit'?)"],
    ],
    schema: true,
  },
  {
    name: 'bad value inside an action',
    files: { 'main.yaml': `${rule('      do:\n        - publish: { topic: t, qos: 3 }\n')}cloud: {}\n` },
    errors: [['main.yaml', 7, 37, 'reactor.rules[0].do[0].publish.qos', 'expected one of 0, 1, 2, got 3']],
    schema: true,
  },
  {
    name: 'enum typo',
    files: { 'main.yaml': rule('      mode: singel\n      do: [{ stop: null }]\n') },
    errors: [
      [
        'main.yaml',
        6,
        13,
        'reactor.rules[0].mode',
        "expected one of 'single', 'restart', 'queued', 'parallel', got 'singel' (did you mean 'single'?)",
      ],
    ],
    schema: true,
  },
  {
    name: 'call to an unknown service',
    files: {
      'main.yaml':
        svc('') +
        'reactor:\n  rules:\n    - name: r\n      on: x\n      do: [{ call: { service: obdd, handler: vin } }]\n',
    },
    errors: [
      [
        'main.yaml',
        10,
        31,
        'reactor.rules[0].do[0].call.service',
        "unknown service 'obdd' (did you mean 'obd'?)",
      ],
    ],
    schema: false,
  },
  {
    name: 'worker action naming an unknown worker',
    files: {
      'main.yaml':
        svc('    workers: [{ name: fast, interval: 1s, messages: [{ handler: vin }] }]\n') +
        'reactor:\n  rules:\n    - name: r\n      on: x\n      do: [{ worker: { service: obd, name: fats, action: pause } }]\n',
    },
    errors: [
      [
        'main.yaml',
        11,
        44,
        'reactor.rules[0].do[0].worker.name',
        "service 'obd' has no worker 'fats' (did you mean 'fast'?)",
      ],
    ],
    schema: false,
  },
  {
    name: 'update action without updates configured',
    files: { 'main.yaml': rule('      do: [{ update: { start: fota } }]\n') },
    errors: [
      [
        'main.yaml',
        6,
        31,
        'reactor.rules[0].do[0].update.start',
        'updates.fota is not configured, so an update cannot be started',
      ],
    ],
    schema: false,
  },
  {
    name: 'bad regex pattern',
    files: {
      'main.yaml':
        'version: 1\nreactor:\n  rules:\n    - name: r\n      on: [vehicle/#, "re:vehicle/(engine"]\n      do: [{ stop: null }]\n',
    },
    errors: [
      [
        'main.yaml',
        5,
        23,
        'reactor.rules[0].on[1]',
        'bad regular expression: Invalid regular expression: /vehicle/(engine/: Unterminated group',
      ],
    ],
    schema: false,
  },
  {
    name: 'wildcard not alone in its segment',
    files: {
      'main.yaml':
        'version: 1\nreactor:\n  rules:\n    - name: r\n      on: vehicle/eng+\n      do: [{ stop: null }]\n',
    },
    errors: [
      [
        'main.yaml',
        5,
        11,
        'reactor.rules[0].on',
        "wildcards '+' and '#' stand alone as a whole segment in 'vehicle/eng+'",
      ],
    ],
    schema: false,
  },
  {
    name: 'YAML syntax error',
    files: { 'main.yaml': 'version: 1\nservices:\n  obd: { driver: sim-vehicle\n' },
    errors: [['main.yaml', 4, 1, '', 'YAML: deficient indentation']],
    schema: false,
  },
  {
    name: 'duplicate key in one map',
    files: { 'main.yaml': 'version: 1\nstatus:\n  window: 10s\n  window: 20s\n' },
    errors: [['main.yaml', 4, 3, 'status.window', "duplicate key 'window' (first at line 3:3)"]],
    schema: false,
  },
  {
    name: 'an error in a merged mapping is at the line it was written, under the key path that uses it',
    files: {
      'main.yaml': svc(`    restart: &backoff { delay: soon, factor: 2 }
  gnss:
    driver: sim-vehicle
    settings: {}
    restart:
      <<: *backoff
      factor: 0.5
      jitter: lots
`),
    },
    errors: [
      ['main.yaml', 6, 32, 'services.gnss.restart.delay', DURATION],
      ['main.yaml', 6, 32, 'services.obd.restart.delay', DURATION],
      ['main.yaml', 12, 15, 'services.gnss.restart.factor', 'must be >= 1'],
      ['main.yaml', 13, 15, 'services.gnss.restart.jitter', "expected number, got 'lots'"],
    ],
    schema: true,
  },
  {
    name: 'a merge key whose value is not a mapping',
    files: { 'main.yaml': 'version: 1\nstatus:\n  <<: 30s\n  window: 10s\n' },
    errors: [
      ['main.yaml', 3, 7, 'status.<<', "YAML: '<<' merges a mapping, or a list of mappings, into this one"],
    ],
    schema: false,
  },
  {
    name: 'two merge keys in one mapping',
    files: { 'main.yaml': 'version: 1\nx: &x { window: 10s }\nstatus:\n  <<: *x\n  <<: *x\n' },
    errors: [
      [
        'main.yaml',
        2,
        1,
        'x',
        "unknown key 'x'; expected one of 'version', 'unit', 'include', 'log', 'services', 'reactor', 'status', 'cloud', 'updates', 'rollout', 'power', 'storage', 'control', 'metrics'",
      ],
      ['main.yaml', 5, 3, 'status.<<', "duplicate key '<<' (first at line 4:3)"],
    ],
    schema: true,
  },
  {
    name: 'a quoted "<<" is a key of its own, not a merge',
    files: { 'main.yaml': 'version: 1\nstatus:\n  "<<": { window: 10s }\n' },
    errors: [['main.yaml', 3, 3, 'status.<<', "unknown key '<<'; expected one of 'window'"]],
    schema: true,
  },
  {
    name: 'included file not found',
    files: { 'main.yaml': 'version: 1\ninclude: [missing.yaml]\n' },
    errors: [['main.yaml', 2, 11, 'include', 'included file missing.yaml not found']],
    schema: false,
  },
  {
    name: 'bad time zone',
    files: { 'main.yaml': 'version: 1\nunit: { timezone: Europe/Osloo }\n' },
    errors: [['main.yaml', 2, 19, 'unit.timezone', 'unknown IANA time zone']],
    schema: false,
  },
  {
    name: 'bad size',
    files: { 'main.yaml': 'version: 1\ncloud:\n  outbox: { max_bytes: 256 MB }\n' },
    errors: [
      [
        'main.yaml',
        3,
        24,
        'cloud.outbox.max_bytes',
        'expected a size such as 512B, 256KB, 256MB, 1GB or a number of bytes',
      ],
    ],
    schema: true,
  },
  {
    name: 'module hook file missing',
    files: {
      'main.yaml': svc('    hooks:\n      - { name: mine, kind: filter, use: ./hooks/mine.js#keep }\n'),
    },
    errors: [
      ['main.yaml', 7, 42, 'services.obd.hooks[0].use', 'file ./hooks/mine.js not found (relative to <dir>)'],
    ],
    schema: false,
  },
  {
    name: 'several errors in several places, all reported',
    files: {
      'main.yaml': 'version: 1\ninclude: r.yaml\nunit: { id: 7 }\nlog: { level: loud }\n',
      'r.yaml': 'reactor:\n  rules:\n    - name: r\n      on: x\n      for: ages\n      do: [{ wait: 5 }]\n',
    },
    errors: [
      ['main.yaml', 3, 13, 'unit.id', 'expected string, got 7'],
      [
        'main.yaml',
        4,
        15,
        'log.level',
        "expected one of 'trace', 'debug', 'info', 'warn', 'error', got 'loud'",
      ],
      ['r.yaml', 5, 12, 'reactor.rules[0].for', DURATION],
    ],
    schema: true,
  },
  {
    name: 'bad args for a built-in hook',
    files: {
      'main.yaml': svc(
        '    hooks:\n      - { name: tenth, kind: converter, use: round, args: { digits: two } }\n      - { name: hot, kind: trigger, use: threshold, args: { abov: 5, tag: x } }\n',
      ),
    },
    errors: [
      ['main.yaml', 7, 69, 'services.obd.hooks[0].args.digits', "expected number, got 'two'"],
      ['main.yaml', 8, 59, 'services.obd.hooks[1].args.above', "missing required key 'above'"],
      ['main.yaml', 8, 61, 'services.obd.hooks[1].args.abov', "unknown key 'abov' (did you mean 'above'?)"],
    ],
    schema: false,
  },
];
