import type { Knex } from '../../src/shared/connections/database.js';
import { onConnection } from './pg-connection.js';

/** A statement as knex sent it: `$n` placeholders and their values. */
export interface CapturedQuery {
  sql: string;
  bindings: unknown[];
}

/** One node of `EXPLAIN (FORMAT JSON)`'s plan tree. */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

/** The statements `run` sends through `knex`, in order: the store's own SQL, not a copy of it. */
export async function captureQueries(
  knex: Knex,
  run: () => Promise<unknown>,
): Promise<CapturedQuery[]> {
  const queries: CapturedQuery[] = [];
  const listener = (query: { sql: string; bindings?: unknown[] }) => {
    queries.push({ sql: query.sql, bindings: query.bindings ?? [] });
  };
  knex.on('query', listener);
  try {
    await run();
  } finally {
    knex.off('query', listener);
  }
  return queries;
}

/** `EXPLAIN` of a captured statement with its values bound, as PostgreSQL plans it then. */
export async function explainJson(
  knex: Knex,
  query: CapturedQuery,
  options: { analyze?: boolean } = {},
): Promise<{ plan: PlanNode; executionMs: number | null }> {
  const how = options.analyze ? 'ANALYZE, BUFFERS, FORMAT JSON' : 'FORMAT JSON';
  const result = await onConnection(knex, (connection) =>
    connection.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time'?: number }> }>(
      `EXPLAIN (${how}) ${query.sql}`,
      query.bindings,
    ),
  );
  const [top] = result.rows[0]!['QUERY PLAN'];
  return { plan: top!.Plan, executionMs: top!['Execution Time'] ?? null };
}

/** `EXPLAIN (ANALYZE, BUFFERS)` of a captured statement, as text to print. */
export async function explainAnalyzeText(knex: Knex, query: CapturedQuery): Promise<string> {
  const result = await onConnection(knex, (connection) =>
    connection.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${query.sql}`,
      query.bindings,
    ),
  );
  return result.rows.map((row) => row['QUERY PLAN']).join('\n');
}

/** Every node of a plan tree, depth first. */
export function planNodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(planNodes)];
}

/** The index on `table` that PostgreSQL made for the partitioned index `parentIndex`. */
export async function partitionIndex(
  knex: Knex,
  parentIndex: string,
  table: string,
): Promise<string> {
  const result = await knex.raw<{ rows: Array<{ name: string }> }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_index x ON x.indexrelid = c.oid
      WHERE i.inhparent = to_regclass(?) AND x.indrelid = to_regclass(?)`,
    [parentIndex, table],
  );
  const name = result.rows[0]?.name;
  if (!name) throw new Error(`${table} has no index attached to ${parentIndex}`);
  return name;
}

/**
 * What a plan does with `table`: each node that reads it (type and index), and whether any node
 * reads all of it or sorts (a Seq Scan, a Bitmap Heap Scan, a Sort anywhere in the tree).
 */
export function readsOf(plan: PlanNode, table: string) {
  const nodes = planNodes(plan);
  return {
    scans: nodes
      .filter((node) => node['Relation Name'] === table)
      .map((node) => ({ type: node['Node Type'], index: node['Index Name'] ?? null })),
    sorts: nodes.filter((node) => /Sort/.test(node['Node Type'])).map((node) => node['Node Type']),
  };
}
