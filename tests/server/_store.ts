/**
 * Test helper: a SQLite store in a temporary folder.
 *
 * @module
 */
import { waitUntil } from "../_wait.ts";
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

/** Wait until `condition` holds (or fail after 10 s): the shared `waitUntil`, briefly. */
export async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  await waitUntil(condition, "the condition", 10_000);
}
