import { statfsSync } from 'node:fs';
import os from 'node:os';

/**
 * This unit as the one node of Aos's unit status: its id, memory, CPUs and the partition that holds
 * `data_dir`. `maxDmips` is 0: nothing here measures it.
 */
export function nodeInfo(unit: string, dataDir: string): Record<string, unknown> {
  const cpus = os.cpus();
  let totalSize = 0;
  try {
    const fs = statfsSync(dataDir);
    totalSize = fs.blocks * fs.bsize;
  } catch {
    // Not there yet: the size is unknown, not an error worth a status.
  }
  return {
    id: unit,
    type: 'pitcrew',
    name: os.hostname(),
    status: 'provisioned',
    osType: os.type().toLowerCase(),
    maxDmips: 0,
    totalRam: os.totalmem(),
    cpus: [
      {
        modelName: cpus[0]?.model ?? 'unknown',
        numCores: cpus.length,
        numThreads: cpus.length,
        arch: os.arch(),
        maxDmips: 0,
      },
    ],
    partitions: [{ name: 'data', types: ['storage', 'state'], totalSize, path: dataDir }],
  };
}
