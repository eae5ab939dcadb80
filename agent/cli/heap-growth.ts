/**
 * Once an agent has started, a full GC when its old generation has grown 20 %, not V8's 100 %: a
 * long-running agent stays small. Not a command-line flag: the start builds its whole working set
 * at once, and at 20 % V8 collected ~10 times on the way (bench/startup: ~20 ms of a start).
 * node:v8 is loaded here, not with the bundle: loading it costs a start ~5 ms.
 */
export function slowHeapGrowth(): void {
  process.getBuiltinModule('node:v8').setFlagsFromString('--heap-growing-percent=20');
}
