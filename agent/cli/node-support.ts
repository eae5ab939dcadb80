/**
 * Why this Node.js is not supported (package.json `engines`: 22 and 24, the LTS lines units install today), or undefined when it is. On 26 the serial drivers stop
 * receiving from their adapters (README, "Known issues"); below 22, the native addons do not load.
 */
export function nodeSupportProblem(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (major >= 26)
    return `Node.js ${version} is not supported (supported: 22 and 24): on Node 26 the serial drivers (elm327, nmea) stop receiving after their first exchanges; run pitcrew on Node 24 (README, "Known issues")`;
  if (major < 22) return `Node.js ${version} is not supported (supported: 22 and 24)`;
  return undefined;
}
