/**
 * Test helper: a SQLite store in a temporary folder.
 *
 * @module
 */
import { openStore, type OpenStoreOptions, type Store } from "../../store/mod.ts";

/** Run `fn` with a fresh SQLite store (closed and deleted afterwards). */
export async function withStore(
  fn: (store: Store, path: string) => Promise<void>,
  options: OpenStoreOptions = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vbkpool-server-store-" });
  const path = `${dir}/pool.sqlite`;
  const store = await openStore(path, options);
  try {
    await fn(store, path);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Wait until `condition` holds (or fail after ~10 s). */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
}
