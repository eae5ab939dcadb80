import { compileTemplate } from '../core/templates.js';

/** A unit's topic prefix from `cloud.topic_prefix` (a template over `unit`), as the unit and the fleet tools both work it out. */
export function unitPrefix(template: string, unit: { id: string }): string {
  return String(compileTemplate(template)({ unit }));
}
