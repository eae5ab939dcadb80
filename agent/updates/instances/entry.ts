import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { load } from 'js-yaml';
import * as z from 'zod';
import { flush, flushFileSystem } from '../../core/durable-file.js';
import { errors, errorText, PitcrewError } from '../errors.js';
import { archiveLimits, unpack } from '../installers/archive.js';
import { removeInside } from '../installers/confined.js';

/** How an instance of a service version is started: argv (no shell), environment, working directory. */
export interface EntryPoint {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

/** `pitcrew-service.yaml` at a service's root: what to run when the artifact is not an OCI image. */
const ServiceManifest = z.strictObject({
  run: z.array(z.string().min(1)).min(1),
  env: z.record(z.string(), z.string()).default({}),
});

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const Index = z.looseObject({ manifests: z.array(z.looseObject({ digest: Digest })).min(1) });
const Manifest = z.looseObject({
  config: z.looseObject({ digest: Digest }),
  layers: z.array(z.looseObject({ digest: Digest })).default([]),
});
const ImageConfig = z.looseObject({
  config: z
    .looseObject({
      Entrypoint: z.array(z.string()).nullable().optional(),
      Cmd: z.array(z.string()).nullable().optional(),
      Env: z.array(z.string()).nullable().optional(),
      WorkingDir: z.string().optional(),
    })
    .default({}),
});

/** Largest JSON file of an image layout read (index, manifest, config). */
const MAX_JSON = 1024 * 1024;

async function readJson<T>(file: string, schema: z.ZodType<T>, what: string): Promise<T> {
  const { size } = await stat(file);
  if (size > MAX_JSON) throw errors.INSTANCE_ENTRY(file, `its ${what} is over ${MAX_JSON} bytes`);
  const checked = schema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  if (!checked.success)
    throw errors.INSTANCE_ENTRY(
      file,
      `not a valid ${what}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return checked.data;
}

const blob = (dir: string, digest: string) =>
  path.join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length));

/** `p` inside `root`, however many `..` it has: an image's paths are rooted at its own filesystem. */
const within = (root: string, p: string) => path.join(root, path.posix.normalize(`/${p}`));

/**
 * The image's layers unpacked in order into `dir/rootfs`, once (a later start finds it complete);
 * every layer checked as an installed archive is (paths and links stay inside, bounded size).
 */
async function rootfs(dir: string, layers: readonly string[]): Promise<string> {
  const root = path.join(dir, 'rootfs');
  if (existsSync(path.join(dir, '.rootfs.complete')) || !layers.length) return root;
  const staging = path.join(dir, '.rootfs.unpacking');
  await removeInside(dir, staging);
  await mkdir(staging);
  for (const layer of layers) {
    const file = blob(dir, layer);
    await unpack(file, staging, await archiveLimits(file, dir, { ratio: 20, maxEntries: 100_000 }));
  }
  // On the disk before it is named complete: a power cut never leaves a rootfs of empty files.
  await flushFileSystem(staging);
  await removeInside(dir, root);
  await rename(staging, root);
  await mkdir(path.join(dir, '.rootfs.complete'));
  await flush(dir);
  return root;
}

/**
 * The entry point of an installed service version (DESIGN §14). An OCI image layout (`oci-layout`
 * and `index.json`): its config's `Entrypoint` + `Cmd`, `Env` and `WorkingDir`, its layers
 * unpacked into `rootfs/`; a program named by an absolute path runs from the rootfs when it is
 * there (this unit runs no container runtime: the process shares the unit's filesystem, rooted
 * for its files at the rootfs). Otherwise `pitcrew-service.yaml`: `run` (a `./` program is the
 * service's own) and `env`, in the service's directory.
 */
export async function entryPoint(dir: string): Promise<EntryPoint> {
  try {
    if (existsSync(path.join(dir, 'oci-layout'))) {
      const index = await readJson(path.join(dir, 'index.json'), Index, 'OCI image index');
      const manifest = await readJson(blob(dir, index.manifests[0]!.digest), Manifest, 'OCI manifest');
      const { config } = await readJson(blob(dir, manifest.config.digest), ImageConfig, 'OCI image config');
      const argv = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
      if (!argv.length) throw errors.INSTANCE_ENTRY(dir, 'the image config has no Entrypoint or Cmd');
      const root = await rootfs(
        dir,
        manifest.layers.map((l) => l.digest),
      );
      const program = argv[0]!;
      const own = path.isAbsolute(program) && existsSync(within(root, program));
      const env = Object.fromEntries(
        (config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      return {
        argv: [own ? within(root, program) : program, ...argv.slice(1)],
        env,
        cwd: within(root, config.WorkingDir ?? '/'),
      };
    }
    const file = path.join(dir, 'pitcrew-service.yaml');
    if (!existsSync(file))
      throw errors.INSTANCE_ENTRY(dir, 'it is neither an OCI image layout nor has a pitcrew-service.yaml');
    const m = ServiceManifest.safeParse(load(await readFile(file, 'utf8')));
    if (!m.success)
      throw errors.INSTANCE_ENTRY(
        file,
        m.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; '),
      );
    const [program, ...args] = m.data.run;
    const own = program!.startsWith('./') ? within(dir, program!) : program!;
    return { argv: [own, ...args], env: m.data.env, cwd: dir };
  } catch (e) {
    if (e instanceof PitcrewError) throw e;
    throw errors.INSTANCE_ENTRY(dir, errorText(e));
  }
}
