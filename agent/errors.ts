/** The error catalogue (DESIGN §1), kept in the kernel so that every layer, the kernel included, can use it. */
export * from './core/errors.js';
