/** A feature wired to the agent's bus (control socket, reactor, cloud link …): started after services, stopped before. */
export interface Extension {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}
