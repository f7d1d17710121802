/**
 * Test fixtures for the store contract: a fresh SQLite file in a temporary folder, or a fresh
 * PostgreSQL database on the server named by `VBKPOOL_TEST_POSTGRES_URL` (started by `.ci/run`).
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import postgres from "postgres";
import { openStore, type OpenStoreOptions, type Store } from "../../store/mod.ts";

/** A fresh, empty database and ways to reach it. */
export interface Fixture {
  /** What `openStore` takes. */
  location: string;
  /** Open a store on it. */
  open(options?: OpenStoreOptions): Promise<Store>;
  /** Run raw SQL on it (outside the store). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Delete it. */
  cleanup(): Promise<void>;
}

/** A database backend under test. */
export interface Backend {
  /** Name shown in test names. */
  name: string;
  /** True when the backend cannot run here (the tests are skipped). */
  ignore: boolean;
  /** Options every test passes to `openStore`. */
  options: OpenStoreOptions;
  /** A fresh database. */
  fresh(): Promise<Fixture>;
}

/** The PostgreSQL server for tests, or undefined. */
export const POSTGRES_URL: string | undefined = Deno.env.get("VBKPOOL_TEST_POSTGRES_URL");

let warned = false;
/** Print once why the PostgreSQL tests are skipped. */
export function warnIfNoPostgres(): void {
  if (POSTGRES_URL !== undefined || warned) return;
  warned = true;
  console.log(
    "SKIPPING PostgreSQL store tests: VBKPOOL_TEST_POSTGRES_URL is not set " +
      "(.ci/run starts a throwaway PostgreSQL server and sets it)",
  );
}

function sqliteBackend(name: string, options: OpenStoreOptions): Backend {
  return {
    name,
    ignore: false,
    options,
    async fresh(): Promise<Fixture> {
      const dir = await Deno.makeTempDir({ prefix: "vbkpool-store-" });
      const path = `${dir}/pool.sqlite`;
      return {
        location: path,
        open: (extra = {}) => openStore(path, { ...options, ...extra }),
        query(sql: string) {
          const db = new DatabaseSync(path);
          try {
            const st = db.prepare(sql);
            st.setReadBigInts(true);
            return Promise.resolve(/^\s*select/i.test(sql) ? st.all() : (st.run(), []));
          } finally {
            db.close();
          }
        },
        cleanup: () => Deno.remove(dir, { recursive: true }),
      };
    },
  };
}

let dbCounter = 0;

/** Make a fresh PostgreSQL database on the test server; returns its URL and a drop function. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (POSTGRES_URL === undefined) throw new Error("VBKPOOL_TEST_POSTGRES_URL is not set");
  const name = `vbk_test_${Deno.pid}_${Date.now().toString(36)}_${dbCounter++}`;
  const admin = postgres(POSTGRES_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(POSTGRES_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = postgres(POSTGRES_URL!, { max: 1, onnotice: () => {} });
      try {
        await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

function postgresBackend(): Backend {
  const options: OpenStoreOptions = { connectTimeoutS: 3 };
  return {
    name: "postgres",
    ignore: POSTGRES_URL === undefined,
    options,
    async fresh(): Promise<Fixture> {
      const db = await freshPostgresDatabase();
      return {
        location: db.url,
        open: (extra = {}) => openStore(db.url, { ...options, ...extra }),
        async query(sql: string) {
          const c = postgres(db.url, {
            max: 1,
            onnotice: () => {},
            types: { bigint: postgres.BigInt },
          });
          try {
            return [...await c.unsafe(sql)] as Record<string, unknown>[];
          } finally {
            await c.end();
          }
        },
        cleanup: () => db.drop(),
      };
    },
  };
}

/** Every backend the contract runs against. */
export const BACKENDS: readonly Backend[] = [
  sqliteBackend("sqlite", { thread: true }),
  sqliteBackend("sqlite-inline", { thread: false }),
  postgresBackend(),
];

/**
 * One test per backend (PostgreSQL only when configured), each with a fresh store that is closed
 * and deleted afterwards.
 *
 * @param subject What the suite tests, e.g. "Store" (the test name is `subject (backend) title`).
 * @param title What this test shows.
 * @param fn The test.
 */
export function contractTest(
  subject: string,
  title: string,
  fn: (f: Fixture, store: Store) => Promise<void>,
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `${subject} (${backend.name}) ${title}`,
      ignore: backend.ignore,
      async fn() {
        const fixture = await backend.fresh();
        const store = await fixture.open();
        try {
          await fn(fixture, store);
        } finally {
          await store.close();
          await fixture.cleanup();
        }
      },
    });
  }
}

/**
 * Run `sql` (one row; numbers come back as numbers) on a SQLite file or a PostgreSQL database,
 * read-only for SQLite: what the end-to-end tests count in a pool's store.
 *
 * @param url A SQLite path or a `postgres://` URL.
 * @param sql The query.
 * @returns Its one row.
 */
export async function queryRow(url: string, sql: string): Promise<Record<string, number>> {
  if (!url.startsWith("postgres")) {
    const db = new DatabaseSync(url, { readOnly: true });
    try {
      return db.prepare(sql).get() as Record<string, number>;
    } finally {
      db.close();
    }
  }
  const c = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await c.unsafe(sql);
    return Object.fromEntries(Object.entries(row!).map(([k, v]) => [k, Number(v)]));
  } finally {
    await c.end();
  }
}
