import type { ServiceT } from '../../schemas/services.js';
import type { ServiceParts } from '../core/service.js';
import type { DriverContext, HookContext } from '../core/types.js';
import { driverNamed } from '../drivers/registry.js';
import { errors } from '../errors.js';
import { buildStep, resolveStep, type StepScope } from '../hooks/resolve.js';

/** What every service's hooks share; the service name and logger are added per service. */
export type SharedHookContext = Omit<HookContext, 'service' | 'log'>;

/** Builds a service's driver (from the driver registry) and its step resolver (the one name resolution). */
export async function serviceParts(
  name: string,
  def: ServiceT,
  ctx: DriverContext,
  shared: SharedHookContext,
): Promise<ServiceParts> {
  const driverDef = driverNamed(def.driver);
  if (!driverDef) throw errors.DRIVER_UNAVAILABLE(def.driver);
  const driver = await driverDef.create(def.settings, ctx);
  const scope: StepScope = {
    local: new Map(def.hooks.map((h) => [h.name, h])),
    handlers: driverDef.handlers,
    driverHooks: driverDef.hooks,
  };
  // The service's own clock: a hook's timers end with the service's run.
  const hookCtx: HookContext = { ...shared, service: name, log: ctx.log, clock: ctx.clock };
  return {
    driver,
    resolve: (step, kind) => buildStep(resolveStep(step, kind, scope), kind, hookCtx, driver.handlers),
  };
}
