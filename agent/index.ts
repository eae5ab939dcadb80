/** pitcrew's public API (DESIGN §11). */
export type { ConfigT as Config } from '../schemas/config.js';
export { ConfigError, type ConfigIssue } from './config/errors.js';
export { type LoadedConfig, loadConfig, loadConfigSync } from './config/load.js';
export { Agent, type AgentOptions, type AgentStatus, createAgent } from './core/agent.js';
export type { Event, Listener, Match } from './core/bus.js';
export { type Clock, FakeClock, realClock } from './core/clock.js';
export type { Extension } from './core/extension.js';
export type { HookContext, Result } from './hooks/types.js';
export { type Compiled, compileLogic, type LogicOptions } from './reactor/logic.js';
export type { Trace } from './reactor/traces.js';
