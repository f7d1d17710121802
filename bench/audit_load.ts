/**
 * Audit load: how long `vbkpool audit` takes on a large store. Fills a fresh store with N shares
 * (default 1,000,000, ten of them duplicated) straight into the table, then credits blocks over
 * them as the unlocker does (`computeCredits`, PPLNS window 2), and times the duplicate-hash
 * query alone and the whole audit (read-only snapshot, no NodeCore). Not a test.
 *
 * ```sh
 * deno run -A bench/audit_load.ts                       # SQLite
 * deno run -A bench/audit_load.ts --postgres URL        # and PostgreSQL (a fresh database)
 * deno run -A bench/audit_load.ts --shares 200000 --blocks 5
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { auditStore, computeCredits } from "../payouts/mod.ts";
import { openStore, type Store } from "../store/mod.ts";

const { values } = parseArgs({
  options: {
    shares: { type: "string", default: "1000000" },
    blocks: { type: "string", default: "20" },
    postgres: { type: "string" },
  },
});
const N = Number(values.shares);
const BLOCKS = Number(values.blocks);
const DUPLICATES = 10;
const T0 = 1_700_000_000_000;
/** Share difficulty and network difficulty: a window of X = 2 holds 2,000 shares. */
const D = 1000n;
const ND = 1_000_000n;

function fillSqlite(path: string): void {
  const db = new DatabaseSync(path);
  try {
    db.exec("BEGIN");
    const st = db.prepare(
      `INSERT INTO shares (instance, address, worker, job_id, difficulty, network_difficulty,
        height, time, hash, solo) VALUES (0, ?, 'rig', '1', ?, ?, 1, ?, ?, 0)`,
    );
    const hash = new Uint8Array(24);
    const view = new DataView(hash.buffer);
    for (let i = 0; i < N; i++) {
      view.setUint32(0, i);
      view.setUint32(4, 0x5eed);
      view.setUint32(8, Math.imul(i, 2654435761) >>> 0);
      st.run(`V${(i % 10).toString().padStart(29, "x")}`, D, ND, T0 + i, hash);
    }
    // Ten hashes stored twice.
    db.exec(`INSERT INTO shares (instance, address, worker, job_id, difficulty,
      network_difficulty, height, time, hash, solo) SELECT instance, address, worker, job_id,
      difficulty, network_difficulty, height, time, hash, solo FROM shares WHERE id <= ${DUPLICATES}`);
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

async function fillPostgres(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`INSERT INTO shares (instance, address, worker, job_id, difficulty,
        network_difficulty, height, time, hash, solo)
      SELECT 0, 'V' || lpad((g % 10)::text, 29, 'x'), 'rig', '1', ${D}, ${ND}, 1, ${T0} + g,
        decode(md5(g::text) || substr(md5((g + 1)::text), 1, 16), 'hex'), false
      FROM generate_series(0, ${N - 1}) AS g`);
    await sql.unsafe(`INSERT INTO shares (instance, address, worker, job_id, difficulty,
        network_difficulty, height, time, hash, solo) SELECT instance, address, worker, job_id,
        difficulty, network_difficulty, height, time, hash, solo FROM shares
      ORDER BY id LIMIT ${DUPLICATES}`);
    await sql.unsafe("ANALYZE shares");
  } finally {
    await sql.end();
  }
}

/** Blocks spread over the shares, each credited by PPLNS as the unlocker does. */
async function creditBlocks(store: Store): Promise<void> {
  for (let b = 0; b < BLOCKS; b++) {
    const time = T0 + Math.floor((N * (b + 1)) / (BLOCKS + 1));
    const hash = crypto.getRandomValues(new Uint8Array(24));
    const { block } = await store.recordBlock({
      instance: 0,
      height: 100 + b,
      hash,
      address: "V".padEnd(30, "x"),
      worker: "rig",
      networkDifficulty: ND,
      time,
    });
    const { split, basis } = await computeCredits(store, block, {
      reward: 5_000_000_000n,
      window: 2,
      fees: [{ address: "Vfee".padEnd(30, "x"), percent: "1" }],
    });
    await store.payouts.creditBlock(hash, {
      reward: 5_000_000_000n,
      confirmations: 20,
      credits: split.credits,
      basis: JSON.stringify(basis),
    });
  }
}

async function measure(name: string, location: string, fill: () => Promise<void> | void) {
  const setup = await openStore(location, { thread: false, synchronous: "normal" });
  await setup.close();
  let t = performance.now();
  await fill();
  const fillS = (performance.now() - t) / 1000;
  const writer = await openStore(location, { thread: false, synchronous: "normal" });
  await creditBlocks(writer);
  await writer.close();
  const store = await openStore(location, { readOnly: true });
  try {
    t = performance.now();
    const dups = await store.scan.duplicateShares();
    const dupS = (performance.now() - t) / 1000;
    const rss0 = Deno.memoryUsage().rss;
    t = performance.now();
    const report = await auditStore(store, {});
    const auditS = (performance.now() - t) / 1000;
    const rss1 = Deno.memoryUsage().rss;
    const windows = report.checks.find((c) => c.name === "pplns_windows")!;
    const failed = report.checks.filter((c) => !c.ok).map((c) => c.name).join(",");
    console.log(
      `${name}: ${dups.shares} shares (filled in ${fillS.toFixed(1)} s); duplicate hashes ` +
        `${dups.hashes} found in ${dupS.toFixed(2)} s; whole audit ${auditS.toFixed(2)} s ` +
        `(${windows.examined.recomputed} windows of 2,000 shares recomputed; failed: ${failed}, ` +
        `expected: share_keys, the ${DUPLICATES} planted duplicates); ` +
        `RSS ${(rss0 / 2 ** 20).toFixed(0)} → ${(rss1 / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await store.close();
  }
}

const dir = await Deno.makeTempDir({ prefix: "vbkpool-audit-load-" });
try {
  const path = `${dir}/pool.sqlite`;
  await measure("sqlite", path, () => fillSqlite(path));
  if (values.postgres !== undefined) {
    const admin = postgres(values.postgres, { max: 1, onnotice: () => {} });
    const name = `vbk_audit_load_${Deno.pid}`;
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const url = new URL(values.postgres);
    url.pathname = `/${name}`;
    try {
      await measure("postgres", url.toString(), () => fillPostgres(url.toString()));
    } finally {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
