import { errors } from '../errors.js';

/** The `create` of a driver whose hardware support is not in this build: it fails plainly at start. */
export const notInThisBuild = (name: string) => () => {
  throw errors.DRIVER_UNAVAILABLE(name);
};
