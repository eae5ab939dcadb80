/**
 * Why this Node.js is not supported (package.json `engines`: the LTS lines 22, 24 and 26, each
 * tested in CI), or undefined when it is: below 22 the native addons do not load; above 26 nothing
 * has been tested.
 */
export function nodeSupportProblem(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)/.exec(version)?.[1]);
  if (major < 22 || major > 26 || major % 2 === 1)
    return `Node.js ${version} is not supported (supported: the LTS lines 22, 24 and 26)`;
  return undefined;
}
