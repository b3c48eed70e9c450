import { parquetWriteFile } from 'hyparquet-writer';

export interface SparkRecsRow {
  user: number | null;
  recommendations: { item: number | null; rating: number | null }[] | null;
}

/**
 * Writes rows the way Spark writes `ALSModel.recommendForAllUsers(n)`:
 * `<userCol>: int`, `recommendations: array<struct<<itemCol>: int, rating: float>>`.
 */
export function writeSparkRecsParquet(filename: string, rows: SparkRecsRow[], userCol = 'userId', itemCol = 'movieId'): void {
  parquetWriteFile({
    filename,
    columnData: [
      { name: userCol, data: rows.map((r) => r.user) },
      { name: 'recommendations', data: rows.map((r) => r.recommendations?.map((e) => ({ [itemCol]: e.item, rating: e.rating })) ?? null) },
    ],
    schema: [
      { name: 'spark_schema', num_children: 2 },
      { name: userCol, type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'recommendations', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
      { name: itemCol, type: 'INT32', repetition_type: 'OPTIONAL' },
      { name: 'rating', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    ],
    codec: 'SNAPPY',
  });
}
