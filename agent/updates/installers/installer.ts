import type { ItemT } from '../model.js';

/** Puts a verified download in place, or takes an item away. */
export interface Installer {
  install(item: ItemT, file: string): Promise<void>;
  remove(item: ItemT): Promise<void>;
}
