// The data source the TypeORM CLI uses (migration:generate, migration:run) on $DATABASE_URL.
import { createDataSource } from '@kiln/db';

export default createDataSource({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/kiln', poolSize: 2 });
