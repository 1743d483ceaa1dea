/**
 * Linear-sum assignment: given an `n × m` cost matrix with n ≤ m, assign every
 * row to a distinct column so that the summed cost is minimal.
 *
 * This is the shortest-augmenting-path form of the Hungarian method
 * (Jonker–Volgenant style, O(n²·m)). Rows are added one at a time. Each
 * addition runs a Dijkstra-like search over the reduced costs
 * `cost − u_row − v_col`, which stay non-negative because the dual potentials
 * u and v are kept feasible.
 */
import { InputError } from '@sculpt/core';
import type { Matrix } from '../algorithms/matrix.js';

export interface Assignment {
  /** `columnOfRow[i]` is the column assigned to row i. */
  columnOfRow: Int32Array;
  /** Summed cost of the assigned entries. */
  cost: number;
}

/** Solves the minimum-cost assignment of every row of `cost` to a distinct column. */
export function solveLinearAssignment(cost: Matrix): Assignment {
  const { rows, cols, data } = cost;
  if (rows > cols) throw new InputError(`linear assignment needs rows ≤ columns, got a ${rows}×${cols} cost matrix; pass its transpose`);
  for (const value of data) {
    if (!Number.isFinite(value)) throw new InputError(`linear assignment cost matrix contains ${value}; every cost must be finite`);
  }

  // Potentials and the matching use 1-based indices so that column 0 can act as
  // the virtual source column of each augmenting search.
  const rowPotential = new Float64Array(rows + 1);
  const columnPotential = new Float64Array(cols + 1);
  const rowOfColumn = new Int32Array(cols + 1);
  const previousColumn = new Int32Array(cols + 1);
  const distance = new Float64Array(cols + 1);
  const visited = new Uint8Array(cols + 1);

  for (let row = 1; row <= rows; row++) {
    rowOfColumn[0] = row;
    let column = 0;
    distance.fill(Infinity);
    visited.fill(0);

    // Grow a shortest-path tree from the new row until it reaches a free column.
    do {
      visited[column] = 1;
      const currentRow = rowOfColumn[column];
      let delta = Infinity;
      let nextColumn = 0;
      for (let j = 1; j <= cols; j++) {
        if (visited[j]) continue;
        const reduced = data[(currentRow - 1) * cols + (j - 1)] - rowPotential[currentRow] - columnPotential[j];
        if (reduced < distance[j]) {
          distance[j] = reduced;
          previousColumn[j] = column;
        }
        if (distance[j] < delta) {
          delta = distance[j];
          nextColumn = j;
        }
      }

      // Shift the potentials so that the tree edges stay tight (reduced cost 0).
      for (let j = 0; j <= cols; j++) {
        if (visited[j]) {
          rowPotential[rowOfColumn[j]] += delta;
          columnPotential[j] -= delta;
        } else {
          distance[j] -= delta;
        }
      }
      column = nextColumn;
    } while (rowOfColumn[column] !== 0);

    // Flip the matching along the path back to the source column.
    do {
      const before = previousColumn[column];
      rowOfColumn[column] = rowOfColumn[before];
      column = before;
    } while (column !== 0);
  }

  const columnOfRow = new Int32Array(rows);
  for (let j = 1; j <= cols; j++) if (rowOfColumn[j] !== 0) columnOfRow[rowOfColumn[j] - 1] = j - 1;
  let total = 0;
  for (let i = 0; i < rows; i++) total += data[i * cols + columnOfRow[i]];
  return { columnOfRow, cost: total };
}
