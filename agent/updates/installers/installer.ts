import type { ItemT } from '../model.js';

/** Puts a verified download (or an item's own content) in place, or takes an item away. */
export interface Installer {
  /** `file`: the verified download; absent for an item that carries its content. */
  install(item: ItemT, file?: string): Promise<void>;
  remove(item: ItemT): Promise<void>;
}
