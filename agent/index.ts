/** pitcrew's public API (DESIGN §11). */
export { ConfigError, type ConfigIssue } from './config/errors.js';
export { type LoadedConfig, loadConfig, loadConfigSync } from './config/load.js';
export type { ConfigT as Config } from './config/schema.js';
export type { Event, Listener, Match } from './core/bus.js';
export { type Clock, FakeClock, realClock } from './core/clock.js';
export type { Extension, HookContext, Result } from './core/types.js';
export { errorCode, errors, PitcrewError } from './errors.js';
export type { AgentStatus } from './parts/context.js';
export { type Compiled, compileLogic, type LogicOptions } from './reactor/logic.js';
export type { Trace } from './reactor/traces.js';
export { Agent, type AgentOptions, createAgent } from './runtime/agent.js';
export {
  defineError,
  defineHook,
  defineService,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceInstance,
  z,
} from './sdk.js';
