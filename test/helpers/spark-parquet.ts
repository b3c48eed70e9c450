import { parquetWriteFile } from 'hyparquet-writer';

export interface FactorRow {
  id: number;
  features: number[] | null;
}

/** Writes rows in the layout Spark's ALSModel writer uses: required int32 id, optional list<float> features, snappy. */
export function writeSparkFactorParquet(filename: string, rows: FactorRow[]): void {
  parquetWriteFile({
    filename,
    columnData: [
      { name: 'id', data: rows.map((r) => r.id), nullable: false },
      { name: 'features', data: rows.map((r) => r.features) },
    ],
    schema: [
      { name: 'spark_schema', num_children: 2 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'features', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ],
    codec: 'SNAPPY',
  });
}
