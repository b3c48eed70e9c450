import { parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';

/** One row group's rows, with the index of its first row in the file. */
export interface RowGroup {
  rows: Record<string, unknown>[];
  rowStart: number;
}

/**
 * A parquet file's rows one row group at a time (hyparquet), so memory holds one group however large the
 * file: the one loop the factor reader, load-recs and bucket share. A group that decodes to fewer rows than
 * its footer says is an error.
 */
export async function* rowGroups(file: AsyncBuffer | ArrayBuffer, metadata: FileMetaData, columns?: string[]): AsyncGenerator<RowGroup> {
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, ...(columns ? { columns } : {}) });
    if (rows.length !== rowEnd - rowStart) throw new Error(`row group holds ${rows.length} rows, footer says ${rowEnd - rowStart}`);
    yield { rows, rowStart };
    rowStart = rowEnd;
  }
}
